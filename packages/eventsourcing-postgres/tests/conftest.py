"""Fixtures giving the tests a real PostgreSQL database of their own per xdist worker.

The server comes from ``tests-integration/pgserver.py``: the one configured by
``POSTGRES_HOST`` and friends, or a throwaway server shared by the test run.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg2
import pytest

from eventsourcing.postgres import PostgresDatastore

_PGSERVER = Path(__file__).resolve().parents[3] / "tests-integration" / "pgserver.py"

# Terminates this database's other sessions (leftovers of earlier tests), then
# drops every schema of the tests and recreates an empty "public".
_RESET = """
SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid();
DO $$
DECLARE s name;
BEGIN
  FOR s IN SELECT nspname FROM pg_namespace
            WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
  LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', s);
  END LOOP;
END $$;
CREATE SCHEMA public;
"""


def load_pgserver() -> ModuleType:
    """Import the harness module by path (tests-integration is not a package)."""
    module = sys.modules.get("pgserver")
    if module is not None:
        return module
    spec = importlib.util.spec_from_file_location("pgserver", _PGSERVER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["pgserver"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def pgserver() -> ModuleType:
    """The harness module ``pgserver``."""
    return load_pgserver()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """The PostgreSQL server of this test run (see ``pgserver``)."""
    server = load_pgserver().acquire()
    yield server
    server.release()


@pytest.fixture(scope="session")
def postgres_session_env(postgres_server: Any) -> Iterator[dict[str, str]]:
    """``POSTGRES_*`` variables for this worker's own database."""
    dbname = load_pgserver().worker_database_name("es_postgres")
    postgres_server.create_database(dbname)
    env: dict[str, str] = postgres_server.settings.env(dbname)
    yield env
    postgres_server.drop_database(dbname)


def _connect(env: dict[str, str]) -> Any:
    conn = psycopg2.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
    )
    conn.autocommit = True
    return conn


@pytest.fixture
def pg_env(postgres_session_env: dict[str, str]) -> dict[str, str]:
    """``POSTGRES_*`` variables for an empty database (reset before the test)."""
    conn = _connect(postgres_session_env)
    try:
        with conn.cursor() as cursor:
            cursor.execute(_RESET)
    finally:
        conn.close()
    return dict(postgres_session_env)


@pytest.fixture
def admin(pg_env: dict[str, str]) -> Iterator[Any]:
    """A second session (autocommit psycopg2 connection) on the test database."""
    conn = _connect(pg_env)
    yield conn
    conn.close()


@pytest.fixture
def new_datastore(pg_env: dict[str, str]) -> Iterator[Callable[..., PostgresDatastore]]:
    """Make datastores on the test database (keyword arguments as for
    :class:`PostgresDatastore`), closed after the test."""
    datastores: list[PostgresDatastore] = []

    def make(**kwargs: Any) -> PostgresDatastore:
        datastore = PostgresDatastore(
            dbname=pg_env["POSTGRES_DBNAME"],
            host=pg_env["POSTGRES_HOST"],
            port=pg_env["POSTGRES_PORT"],
            user=pg_env["POSTGRES_USER"],
            password=pg_env["POSTGRES_PASSWORD"],
            **kwargs,
        )
        datastores.append(datastore)
        return datastore

    yield make
    for datastore in datastores:
        datastore.close()
