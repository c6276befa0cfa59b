"""The PostgreSQL driver, psycopg2, which users install through one of two extras."""

from __future__ import annotations

try:
    import psycopg2  # noqa: F401  # imported only to see that it is there
except ImportError as error:
    msg = (
        "eventsourcing.postgres needs the PostgreSQL driver psycopg2, which is not "
        "installed. Install the distribution with one of its extras: "
        "pip install 'eventsourcing-postgres[binary]' (prebuilt psycopg2-binary, "
        "nothing to compile) or pip install 'eventsourcing-postgres[source]' "
        "(psycopg2 built against your libpq, needs pg_config)."
    )
    raise ModuleNotFoundError(msg, name="psycopg2") from error
