"""The PostgreSQL example of the documentation (section 1.6.13), run for real."""

from __future__ import annotations

import os
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

EXAMPLE_VARIABLES = [
    "INFRASTRUCTURE_FACTORY",
    "POSTGRES_CONN_MAX_AGE",
    "POSTGRES_PRE_PING",
    "POSTGRES_LOCK_TIMEOUT",
    "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT",
]


def test_postgres_infrastructure_factory_example(
    pg_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The example writes os.environ: let monkeypatch restore it afterwards.
    for key in list(os.environ):
        monkeypatch.delenv(key)
    for key in [*EXAMPLE_VARIABLES, *pg_env]:
        monkeypatch.setenv(key, "")

    # What earlier sections of the documentation set up.
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

    # The example, as documented.
    os.environ["INFRASTRUCTURE_FACTORY"] = "eventsourcing.postgres:Factory"
    os.environ["POSTGRES_DBNAME"] = "eventsourcing"
    os.environ["POSTGRES_HOST"] = "127.0.0.1"
    os.environ["POSTGRES_PORT"] = "5432"
    os.environ["POSTGRES_USER"] = "eventsourcing"
    os.environ["POSTGRES_PASSWORD"] = "eventsourcing"
    os.environ["POSTGRES_CONN_MAX_AGE"] = "10"
    os.environ["POSTGRES_PRE_PING"] = "y"
    os.environ["POSTGRES_LOCK_TIMEOUT"] = "5"
    os.environ["POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT"] = "5"

    # Not in the example: point it at the test server instead of localhost:5432.
    os.environ.update(pg_env)

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

    # And the settings of the example took effect.
    assert type(factory).__module__ == "eventsourcing.postgres"
    datastore = factory.datastore  # type: ignore[attr-defined]
    assert datastore.conn_max_age == 10
    assert datastore.pre_ping is True
    assert datastore.lock_timeout == 5
    assert datastore.idle_in_transaction_session_timeout == 5
    datastore.close()
