"""Tests of the parking lot example: the parking scenario, automatic snapshots, and
the upcasting of snapshots and events stored by version 1, on each backend."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from eventsourcing.application import Repository
from eventsourcing.domain import TZINFO, Snapshot
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from examples.parkinglot.application import SNAPSHOT_INTERVAL, ParkingLots
from examples.parkinglot.domainmodel import ParkingError, ParkingLot

NOON = datetime(2021, 6, 1, 12, tzinfo=TZINFO)


def make_app(**env: str) -> ParkingLots:
    return ParkingLots(env=env)


def test_parking(env: dict[str, str]) -> None:
    app = make_app(**env)
    app.open_lot("Harbour", capacity=2, hourly_rate=Decimal("3.00"))
    app.enter("Harbour", "AB12 CDE", at=NOON)
    app.enter("Harbour", "XY34 ZZZ", at=NOON)
    assert app.get_free_spaces("Harbour") == 0

    with pytest.raises(ParkingError, match="Harbour is full"):
        app.enter("Harbour", "NEW 1", at=NOON)
    with pytest.raises(ParkingError, match="already parked"):
        app.enter("Harbour", "AB12 CDE", at=NOON)

    # Each started hour is charged, and at least one.
    assert app.leave("Harbour", "AB12 CDE", at=NOON + timedelta(minutes=61)) == Decimal(
        "6.00"
    )
    assert app.leave("Harbour", "XY34 ZZZ", at=NOON) == Decimal("3.00")
    with pytest.raises(ParkingError, match="not parked"):
        app.leave("Harbour", "XY34 ZZZ", at=NOON)
    assert app.get_takings("Harbour") == Decimal("9.00")
    assert app.get_free_spaces("Harbour") == 2


def test_busy_lot_is_snapshotted_automatically(env: dict[str, str]) -> None:
    app = make_app(**env)
    lot_id = app.open_lot("Station", capacity=5, hourly_rate=Decimal("1.50"))
    for i in range(12):
        plate = f"CAR {i}"
        app.enter("Station", plate, at=NOON + timedelta(hours=i))
        app.leave("Station", plate, at=NOON + timedelta(hours=i, minutes=30))

    lot = app.get_lot("Station")
    assert lot.version == 25
    assert app.snapshots is not None
    snapshots = list(app.snapshots.get(lot_id))
    assert [s.originator_version for s in snapshots] == [
        SNAPSHOT_INTERVAL,
        2 * SNAPSHOT_INTERVAL,
    ]

    # Starting from a snapshot gives what replaying every event gives.
    replayed = Repository(app.events).get(lot_id)
    assert replayed.__dict__ == lot.__dict__
    assert app.repository.get(lot_id, version=15).__dict__ == (
        Repository(app.events).get(lot_id, version=15).__dict__
    )
    assert lot.takings == Decimal("18.00")


def test_version_1_snapshot_is_upcast(env: dict[str, str]) -> None:
    app = make_app(**env)
    lot = ParkingLot.open("Market", capacity=10, hourly_rate=Decimal("5.00"))
    app.save(lot)

    # A snapshot as version 1 of the model took it: no hourly rate in its state.
    snapshot = Snapshot.take(lot)
    state = dict(snapshot.state)
    state.pop("hourly_rate")
    state.pop("class_version", None)
    assert app.snapshots is not None
    app.snapshots.put(
        [
            Snapshot(
                originator_id=lot.id,
                originator_version=lot.version,
                timestamp=snapshot.timestamp,
                topic=snapshot.topic,
                state=state,
            )
        ]
    )

    # The repository starts from the snapshot, upcast with the old rate.
    app.enter("Market", "OLD 1", at=NOON)
    assert app.leave("Market", "OLD 1", at=NOON + timedelta(hours=2)) == Decimal("4.00")


def test_version_1_opened_event_is_upcast(env: dict[str, str]) -> None:
    app = make_app(**env)
    version_1_state = {
        "timestamp": NOON,
        "originator_topic": get_topic(ParkingLot),
        "name": "Old Town",
        "capacity": 1,
    }
    data = app.mapper.transcoder.encode(version_1_state)
    if app.mapper.compressor is not None:
        data = app.mapper.compressor.compress(data)
    if app.mapper.cipher is not None:
        data = app.mapper.cipher.encrypt(data)
    app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=ParkingLot.create_id("Old Town"),
                originator_version=1,
                topic=get_topic(ParkingLot.Opened),
                state=data,
            )
        ]
    )

    lot = app.get_lot("Old Town")
    assert lot.hourly_rate == Decimal("2.00")
    assert lot.capacity == 1
