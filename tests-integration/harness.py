"""Which backends the tests run on, and how to point each at fresh, private storage.

Backends are those registered in the ``eventsourcing.infrastructure`` entry-point
group of the environment, so installing a third-party backend adds it to the
runs (``EVENTSOURCING_TEST_BACKENDS=sqlite,postgres`` narrows them). Each backend
also registers, under its own name in the group ``eventsourcing.testing.environ``,
a module (or any object) that declares what the suite cannot guess:

- ``outlives_process`` (required, a bool): whether what the backend stores
  outlives the process that stored it, so that new applications with the same
  settings find it (files and servers: true; memory: false). Tests of restarting
  run only on backends that declare true.
- ``environ(tmp_path: pathlib.Path) -> dict[str, str]`` (optional): settings that
  point the backend at new, empty storage under ``tmp_path``, called for every test.

PostgreSQL is the one real server: the harness in ``tests-integration/pgserver.py``
provides it and never skips, and :func:`environ_for` adds its settings.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

TESTING_GROUP = "eventsourcing.testing.environ"


def installed_backends() -> list[str]:
    """Names of the installed backends, narrowed by ``EVENTSOURCING_TEST_BACKENDS``."""
    names = sorted(
        {ep.name for ep in entry_points(group="eventsourcing.infrastructure")}
    )
    wanted = os.environ.get("EVENTSOURCING_TEST_BACKENDS", "")
    if wanted:
        unknown = set(wanted.split(",")) - set(names)
        if unknown:
            msg = (
                f"EVENTSOURCING_TEST_BACKENDS names {sorted(unknown)} but the installed"
                f" backends are {names}."
            )
            raise ValueError(msg)
        names = [n for n in names if n in wanted.split(",")]
    return names


def checked_declaration(backend: str, declared: Any) -> Any:
    """``declared``, once it has a bool ``outlives_process`` and, if anything, a
    callable ``environ``; else an error that says what to declare."""
    outlives = getattr(declared, "outlives_process", None)
    if not isinstance(outlives, bool):
        msg = (
            f"What the backend {backend!r} registers in the entry-point group "
            f"{TESTING_GROUP!r} ({declared!r}) must declare outlives_process = True "
            "or False (whether what it stores outlives the process that stored it), "
            f"not {outlives!r}."
        )
        raise TypeError(msg)
    environ = getattr(declared, "environ", None)
    if environ is not None and not callable(environ):
        msg = (
            f"What the backend {backend!r} registers in the entry-point group "
            f"{TESTING_GROUP!r} ({declared!r}) has an environ that is not callable: "
            "it must be a function environ(tmp_path) -> dict[str, str]."
        )
        raise TypeError(msg)
    return declared


def declaration(backend: str) -> Any:
    """What ``backend`` declares for test suites (see the module docstring)."""
    found = entry_points(group=TESTING_GROUP, name=backend)
    if not found:
        msg = (
            f"The backend {backend!r} registers nothing in the entry-point group "
            f"{TESTING_GROUP!r}, so the integration suite cannot tell whether its "
            "storage outlives the process. Register a module there, named "
            f"{backend!r}, with outlives_process = True or False (and "
            "environ(tmp_path) if the backend needs settings to find fresh "
            "storage), as the backend author's page of the documentation shows."
        )
        raise LookupError(msg)
    (entry_point, *_) = found
    return checked_declaration(backend, entry_point.load())


def outlives_process(backend: str) -> bool:
    """Whether what ``backend`` stores outlives the process that stored it."""
    result: bool = declaration(backend).outlives_process
    return result


def keeps_positions(backend: str) -> bool:
    """Whether ``backend``'s factory has tracking recorders (an optional part of a
    backend: without them, projections keep their views in another backend)."""
    (entry_point,) = entry_points(group="eventsourcing.infrastructure", name=backend)
    return entry_point.load().tracking_recorder_base is not None


def environ_for(
    backend: str, tmp_path: Path, postgres: dict[str, str]
) -> dict[str, str]:
    """Environment variables selecting ``backend`` with fresh storage of its own."""
    env = {"INFRASTRUCTURE_FACTORY": backend}
    if backend == "postgres":
        env.update(postgres)  # the server; the backend adds a schema of its own
    environ: Callable[[Path], dict[str, str]] | None = getattr(
        declaration(backend), "environ", None
    )
    if environ is not None:
        env.update(environ(tmp_path))
    return env
