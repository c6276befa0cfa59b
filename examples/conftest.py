"""Fixtures for the example tests: ``env`` configures the applications under test,
once for each backend that is installed and needs no server (POPO, SQLite)."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

SERVERLESS_BACKENDS = ("popo", "sqlite")


def installed_backends() -> list[str]:
    names = {ep.name for ep in entry_points(group="eventsourcing.infrastructure")}
    return [name for name in SERVERLESS_BACKENDS if name in names] or ["popo"]


def backend_env(backend: str, tmp_path: Path) -> dict[str, str]:
    """Returns the environment variables that select the given backend."""
    env = {"INFRASTRUCTURE_FACTORY": backend}
    if backend == "sqlite":
        env["SQLITE_DBNAME"] = str(tmp_path / "examples.sqlite")
    return env


@pytest.fixture(params=installed_backends())
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """Environment for the applications under test: pass it as ``env=``."""
    return backend_env(request.param, tmp_path)
