"""The ``ParkingLots`` application: a busy lot gathers events quickly, so it is
snapshotted every ``SNAPSHOT_INTERVAL`` versions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.application import Application

from .domainmodel import ParkingLot

SNAPSHOT_INTERVAL = 10


class ParkingLots(Application):
    snapshotting_intervals = {ParkingLot: SNAPSHOT_INTERVAL}

    def open_lot(self, name: str, capacity: int, hourly_rate: Decimal) -> UUID:
        lot = ParkingLot.open(name, capacity, hourly_rate)
        self.save(lot)
        return lot.id

    def enter(self, name: str, plate: str, at: datetime) -> None:
        lot = self.get_lot(name)
        lot.enter(plate, at)
        self.save(lot)

    def leave(self, name: str, plate: str, at: datetime) -> Decimal:
        lot = self.get_lot(name)
        fee = lot.leave(plate, at)
        self.save(lot)
        return fee

    def get_lot(self, name: str) -> ParkingLot:
        lot: ParkingLot = self.repository.get(ParkingLot.create_id(name))
        return lot

    def get_free_spaces(self, name: str) -> int:
        return self.get_lot(name).free_spaces

    def get_takings(self, name: str) -> Decimal:
        return self.get_lot(name).takings
