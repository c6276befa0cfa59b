"""Fixtures for the application tests: ``backend_environ`` runs a test once for
each installed backend that needs no server (POPO, and SQLite when installed)."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

SERVERLESS_BACKENDS = ("popo", "sqlite")


def installed_backends() -> list[str]:
    names = {ep.name for ep in entry_points(group="eventsourcing.infrastructure")}
    return [name for name in SERVERLESS_BACKENDS if name in names] or ["popo"]


@pytest.fixture(params=installed_backends())
def backend_environ(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> str:
    """Selects the backend through ``os.environ``, as the documentation does."""
    backend: str = request.param
    monkeypatch.setenv("INFRASTRUCTURE_FACTORY", backend)
    if backend == "sqlite":
        monkeypatch.setenv("SQLITE_DBNAME", str(tmp_path / "application.sqlite"))
    return backend
