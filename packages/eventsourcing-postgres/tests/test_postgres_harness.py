"""The test harness ``tests-integration/pgserver.py``: one throwaway server per
test run, shared by its users and stopped by the last one."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import psycopg2
import pytest


def test_users_of_one_run_share_a_server_stopped_by_the_last(pgserver: Any) -> None:
    run_id = f"harness-test-{uuid4().hex}"
    first = pgserver.acquire(run_id)
    second = pgserver.acquire(run_id)
    assert first.settings == second.settings
    assert first.folder.exists()
    assert first.settings.password not in repr(first)

    first.release()
    first.release()  # harmless
    second.create_database("harness_db")
    conn: Any = second.settings.connect("harness_db")
    conn.close()
    assert first.folder.exists()

    second.release()
    assert not first.folder.exists()
    with pytest.raises(psycopg2.OperationalError):
        second.settings.connect()


def test_configured_server_is_used_as_it_is(
    pgserver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTGRES_HOST", "db.example")
    monkeypatch.setenv("POSTGRES_PORT", "6543")
    monkeypatch.setenv("POSTGRES_USER", "u")
    monkeypatch.setenv("POSTGRES_PASSWORD", "p")
    server = pgserver.acquire()
    assert server.folder is None
    assert server.settings.env("d") == {
        "POSTGRES_DBNAME": "d",
        "POSTGRES_HOST": "db.example",
        "POSTGRES_PORT": "6543",
        "POSTGRES_USER": "u",
        "POSTGRES_PASSWORD": "p",
    }
    server.release()

    monkeypatch.delenv("POSTGRES_PASSWORD")
    with pytest.raises(pgserver.ServerUnavailableError, match="POSTGRES_PASSWORD"):
        pgserver.acquire()


def test_worker_database_name(pgserver: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    assert pgserver.worker_database_name("es") == "es_gw3"
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    assert pgserver.worker_database_name("es") == "es_main"
