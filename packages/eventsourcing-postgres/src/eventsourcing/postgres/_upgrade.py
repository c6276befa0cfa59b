"""Upgrading an application's PostgreSQL store: every record's state written again
in the current formats, in one transaction (9.1's tables already have the current
layout)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from psycopg2 import sql
from psycopg2.extras import execute_values

from eventsourcing.persistence import (
    ConfigurationError,
    StoredEvent,
    StoreUpgrade,
)

if TYPE_CHECKING:
    from eventsourcing.postgres._factory import Factory

_BATCH = 1000


def upgrade(
    factory: Factory, reseal: Callable[[StoredEvent], bytes], into: str | None
) -> StoreUpgrade:
    """See :meth:`eventsourcing.postgres.Factory.upgrade`."""
    if into is not None:
        msg = (
            "A PostgreSQL store is upgraded in place, in one transaction (nothing "
            "changes if it is interrupted); to keep a copy, pg_dump it first"
        )
        raise ConfigurationError(msg)
    datastore = factory.datastore
    events = factory.table_name("events")
    snapshots = factory.table_name("snapshots")
    tracking = factory.table_name("tracking")

    def rewrite(cursor: Any) -> StoreUpgrade:
        existing = _existing(cursor, datastore.schema, (events, snapshots, tracking))
        if events not in existing:
            msg = (
                f"Application {factory.application_name!r} has no table {events!r}: "
                "there is nothing to upgrade"
            )
            raise ConfigurationError(msg)
        counts = [
            _rewrite(cursor, datastore.table(name), reseal) if name in existing else 0
            for name in (events, snapshots)
        ]
        tracked = 0
        if tracking in existing:
            cursor.execute(
                sql.SQL("SELECT COUNT(*) FROM {}").format(datastore.table(tracking))
            )
            tracked = cursor.fetchone()[0]
        return StoreUpgrade(events=counts[0], snapshots=counts[1], tracking=tracked)

    result: StoreUpgrade = datastore.write(rewrite)
    return result


def _existing(cursor: Any, schema: str | None, names: tuple[str, ...]) -> set[str]:
    cursor.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = COALESCE(%s, current_schema()) AND table_name = ANY(%s)",
        (schema, list(names)),
    )
    return {row[0] for row in cursor.fetchall()}


def _rewrite(
    cursor: Any, table: sql.Composable, reseal: Callable[[StoredEvent], bytes]
) -> int:
    cursor.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(table))
    cursor.execute(
        sql.SQL(
            "SELECT originator_id, originator_version, topic, state FROM {} "
            "ORDER BY originator_id, originator_version"
        ).format(table)
    )
    rows = cursor.fetchall()
    update = sql.SQL(
        "UPDATE {} AS t SET state = v.state FROM (VALUES %s) AS "
        "v(originator_id, originator_version, state) WHERE "
        "t.originator_id = v.originator_id AND "
        "t.originator_version = v.originator_version"
    ).format(table)
    for start in range(0, len(rows), _BATCH):
        values = [
            (
                originator_id,
                version,
                reseal(StoredEvent(originator_id, version, topic, bytes(state))),
            )
            for originator_id, version, topic, state in rows[start : start + _BATCH]
        ]
        execute_values(
            cursor,
            update.as_string(cursor),
            values,
            template="(%s::uuid, %s::bigint, %s::bytea)",
            page_size=_BATCH,
        )
    return len(rows)
