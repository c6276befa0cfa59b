"""Which backends the tests run on, and how to point each at fresh, private storage.

Backends are those registered in the ``eventsourcing.infrastructure`` entry-point
group of the environment, so installing a third-party backend adds it to the
runs (``EVENTSOURCING_TEST_BACKENDS=sqlite,postgres`` narrows them). A backend
that needs settings to find fresh storage registers a function
``(tmp_path: pathlib.Path) -> dict[str, str]`` under its own name in the group
``eventsourcing.testing.environ``. PostgreSQL is the one real server: the
harness in ``tests-integration/pgserver.py`` provides it and never skips.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path


def installed_backends() -> list[str]:
    """Names of the installed backends, narrowed by ``EVENTSOURCING_TEST_BACKENDS``."""
    names = sorted(
        {ep.name for ep in entry_points(group="eventsourcing.infrastructure")}
    )
    wanted = os.environ.get("EVENTSOURCING_TEST_BACKENDS", "")
    if wanted:
        unknown = set(wanted.split(",")) - set(names)
        if unknown:
            raise ValueError(
                f"EVENTSOURCING_TEST_BACKENDS names {sorted(unknown)} but the installed"
                f" backends are {names}."
            )
        names = [n for n in names if n in wanted.split(",")]
    return names


def _registered_environs() -> dict[str, Callable[[Path], dict[str, str]]]:
    return {
        ep.name: ep.load() for ep in entry_points(group="eventsourcing.testing.environ")
    }


def environ_for(
    backend: str, tmp_path: Path, postgres: dict[str, str]
) -> dict[str, str]:
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
