"""Test fixtures shared by every suite in the monorepo: which backends to run and
how to point each one at fresh, private storage.

Backends are those registered in the ``eventsourcing.infrastructure`` entry-point
group of the environment, so installing a third-party backend adds it to the
runs (``EVENTSOURCING_TEST_BACKENDS=sqlite,postgres`` narrows them). A backend
that needs settings to find fresh storage registers a function
``(tmp_path: pathlib.Path) -> dict[str, str]`` under its own name in the group
``eventsourcing.testing.environ``. PostgreSQL is the one real server: the
harness in ``tests-integration/pgserver.py`` provides it and never skips.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent


def installed_backends() -> list[str]:
    """Names of the installed backends, narrowed by ``EVENTSOURCING_TEST_BACKENDS``."""
    names = sorted({ep.name for ep in entry_points(group="eventsourcing.infrastructure")})
    wanted = os.environ.get("EVENTSOURCING_TEST_BACKENDS", "")
    if wanted:
        unknown = set(wanted.split(",")) - set(names)
        if unknown:
            raise pytest.UsageError(
                f"EVENTSOURCING_TEST_BACKENDS names {sorted(unknown)} but the installed"
                f" backends are {names}."
            )
        names = [n for n in names if n in wanted.split(",")]
    return names


def load_pgserver() -> ModuleType:
    """Import the PostgreSQL harness by path (tests-integration is not a package)."""
    module = sys.modules.get("pgserver")
    if module is None:
        spec = importlib.util.spec_from_file_location(
            "pgserver", ROOT / "tests-integration" / "pgserver.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["pgserver"] = module
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def postgres_env() -> Iterator[dict[str, str]]:
    """``POSTGRES_*`` settings of a database private to this xdist worker.

    Empty when the postgres backend is not installed or not selected.
    """
    if "postgres" not in installed_backends():
        yield {}
        return
    pgserver = load_pgserver()
    server = pgserver.acquire()
    dbname = pgserver.worker_database_name("es_shared")
    server.create_database(dbname)
    try:
        yield dict(server.settings.env(dbname))
    finally:
        server.drop_database(dbname)
        server.release()


def _registered_environs() -> dict[str, Callable[[Path], dict[str, str]]]:
    return {
        ep.name: ep.load() for ep in entry_points(group="eventsourcing.testing.environ")
    }


def environ_for(backend: str, tmp_path: Path, postgres: dict[str, str]) -> dict[str, str]:
    """Environment variables selecting ``backend`` with fresh storage of its own."""
    env = {"INFRASTRUCTURE_FACTORY": backend}
    if backend == "sqlite":
        env["SQLITE_DBNAME"] = str(tmp_path / "sqlite.db")
    elif backend == "postgres":
        env.update(postgres)
        # A schema per test keeps tests apart in the worker's database.
        env["POSTGRES_SCHEMA"] = f"test_{uuid.uuid4().hex[:16]}"
    else:
        make = _registered_environs().get(backend)
        if make is not None:
            env.update(make(tmp_path))
    return env


@pytest.fixture(params=installed_backends())
def backend(request: pytest.FixtureRequest) -> str:
    """Each installed backend in turn."""
    name: str = request.param
    return name


@pytest.fixture
def backend_env(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings for an application on ``backend``: pass them as ``env=``."""
    postgres: dict[str, Any] = (
        request.getfixturevalue("postgres_env") if backend == "postgres" else {}
    )
    return environ_for(backend, tmp_path, postgres)
