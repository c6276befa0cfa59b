"""The SQLite examples of the documentation (sections 1.6.9 and 1.6.12), as written."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

import pytest

from eventsourcing.domain import TZINFO, DomainEvent
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    InfrastructureFactory,
    JSONTranscoder,
    UUIDAsHex,
)


def test_recorder_example() -> None:
    from eventsourcing.sqlite import (
        SQLiteAggregateRecorder,
        SQLiteApplicationRecorder,
        SQLiteDatastore,
        SQLiteProcessRecorder,
    )

    datastore = SQLiteDatastore(db_name=":memory:")
    aggregate_recorder = SQLiteAggregateRecorder(datastore, "snapshots")
    aggregate_recorder.create_table()

    application_recorder = SQLiteApplicationRecorder(datastore)
    application_recorder.create_table()

    datastore = SQLiteDatastore(db_name=":memory:")
    process_recorder = SQLiteProcessRecorder(datastore)
    process_recorder.create_table()

    assert application_recorder.max_notification_id() == 0
    assert process_recorder.max_tracking_id("upstream") == 0
    assert aggregate_recorder.select_events(uuid4()) == []


def test_sqlite_factory_example(monkeypatch: pytest.MonkeyPatch) -> None:
    # The example sets os.environ; monkeypatch restores it afterwards.
    for key in ("INFRASTRUCTURE_FACTORY", "SQLITE_DBNAME", "SQLITE_LOCK_TIMEOUT"):
        monkeypatch.delenv(key, raising=False)
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    transcoder.register(DecimalAsStr())
    id1 = uuid4()
    domain_event1 = DomainEvent(
        originator_id=id1,
        originator_version=1,
        timestamp=datetime.now(tz=TZINFO),
    )

    import os

    os.environ["INFRASTRUCTURE_FACTORY"] = "eventsourcing.sqlite:Factory"
    os.environ["SQLITE_DBNAME"] = ":memory:"
    os.environ["SQLITE_LOCK_TIMEOUT"] = "10"

    factory = InfrastructureFactory.construct()

    recorder = factory.application_recorder()
    mapper = factory.mapper(transcoder=transcoder)
    event_store = factory.event_store(
        mapper=mapper,
        recorder=recorder,
    )

    event_store.put([domain_event1])
    stored_events = list(event_store.get(id1))
    assert stored_events == [domain_event1]
