"""The ``ParkingLot`` aggregate, in explicit style.

Version 2 added an hourly rate (charged per started hour): events and snapshots
stored by version 1 are upcast with the old flat rate of 2.00 an hour.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent

OLD_HOURLY_RATE = Decimal("2.00")


class ParkingError(Exception):
    """Raised when a vehicle can't enter or leave."""


class ParkingLot(Aggregate):
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["hourly_rate"] = OLD_HOURLY_RATE

    def __init__(self, name: str, capacity: int, hourly_rate: Decimal) -> None:
        self.name = name
        self.capacity = capacity
        self.hourly_rate = hourly_rate
        self.parked: dict[str, datetime] = {}
        self.takings = Decimal("0.00")

    @classmethod
    def open(cls, name: str, capacity: int, hourly_rate: Decimal) -> ParkingLot:
        return cls._create(
            cls.Opened,
            id=cls.create_id(name),
            name=name,
            capacity=capacity,
            hourly_rate=hourly_rate,
        )

    @staticmethod
    def create_id(name: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/parking-lots/{name}")

    class Opened(AggregateCreated["ParkingLot"]):
        name: str
        capacity: int
        hourly_rate: Decimal

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["hourly_rate"] = OLD_HOURLY_RATE

    @property
    def free_spaces(self) -> int:
        return self.capacity - len(self.parked)

    def enter(self, plate: str, at: datetime) -> None:
        if plate in self.parked:
            msg = f"Vehicle {plate} is already parked in {self.name}"
            raise ParkingError(msg)
        if not self.free_spaces:
            msg = f"{self.name} is full"
            raise ParkingError(msg)
        self.trigger_event(self.VehicleEntered, plate=plate, at=at)

    class VehicleEntered(AggregateEvent["ParkingLot"]):
        plate: str
        at: datetime

        def apply(self, lot: ParkingLot) -> None:
            lot.parked[self.plate] = self.at

    def leave(self, plate: str, at: datetime) -> Decimal:
        """Lets a vehicle out, charging each started hour; returns the fee."""
        try:
            entered_at = self.parked[plate]
        except KeyError:
            msg = f"Vehicle {plate} is not parked in {self.name}"
            raise ParkingError(msg) from None
        hours = math.ceil((at - entered_at).total_seconds() / 3600)
        fee = max(hours, 1) * self.hourly_rate
        self.trigger_event(self.VehicleLeft, plate=plate, at=at, fee=fee)
        return fee

    class VehicleLeft(AggregateEvent["ParkingLot"]):
        plate: str
        at: datetime
        fee: Decimal

        def apply(self, lot: ParkingLot) -> None:
            del lot.parked[self.plate]
            lot.takings += self.fee
