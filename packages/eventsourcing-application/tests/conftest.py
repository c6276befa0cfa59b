"""Fixtures for the application tests: ``backend_environ`` runs a test once for
each installed backend, selected through ``os.environ`` as the documentation does.

In the monorepo that is every backend the integration harness knows
(``tests-integration/harness.py``: PostgreSQL included, with the throwaway
server of the root ``conftest.py``); elsewhere, such as from an sdist, the
backends that need no server (POPO, and SQLite when installed).
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

try:
    from harness import environ_for, installed_backends
except ImportError:  # outside the monorepo (tests-integration not on the path)
    SERVERLESS = ("popo", "sqlite")

    def installed_backends() -> list[str]:
        names = {ep.name for ep in entry_points(group="eventsourcing.infrastructure")}
        return [name for name in SERVERLESS if name in names]

    def environ_for(
        backend: str, tmp_path: Path, postgres: dict[str, str]
    ) -> dict[str, str]:
        env = {"INFRASTRUCTURE_FACTORY": backend}
        if backend == "sqlite":
            env["SQLITE_DBNAME"] = str(tmp_path / "application.sqlite")
        return env


@pytest.fixture(params=installed_backends())
def backend_environ(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> str:
    """Selects the backend through ``os.environ``, as the documentation does."""
    backend: str = request.param
    postgres: dict[str, str] = (
        request.getfixturevalue("postgres_env") if backend == "postgres" else {}
    )
    for key, value in environ_for(backend, tmp_path, postgres).items():
        monkeypatch.setenv(key, value)
    return backend
