"""Fixtures shared by every suite in the monorepo (see tests-integration/harness.py)."""

from __future__ import annotations

import fcntl
import os
import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pgserver
import pytest
from harness import environ_for, installed_backends

BUILD_SCRIPT = Path(__file__).resolve().parent / "scripts" / "build.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks ``on_backend`` each test that runs on one backend of several: those
    parametrized by the ``backend`` fixture and the contract cases generated for
    each backend. ``hatch run integration NAME`` runs these alone. Marks
    ``postgres`` each test that runs on PostgreSQL, so the other Pythons' runs
    can leave them out."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = list(callspec.params.values()) if callspec is not None else []
        on_param = callspec is not None and "backend" in callspec.params
        cls_backend = getattr(getattr(item, "cls", None), "backend", None)
        if on_param or isinstance(cls_backend, str):
            item.add_marker(pytest.mark.on_backend)
        fixtures = getattr(item, "fixturenames", ())
        if "postgres_env" in fixtures or "postgres" in [*params, cls_backend]:
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(autouse=True)
def _restore_environ() -> Iterator[None]:
    """Undo what a test (often a documentation example) set in ``os.environ``."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def postgres_env() -> Iterator[dict[str, str]]:
    """``POSTGRES_*`` settings of a database private to this xdist worker."""
    server = pgserver.acquire()
    dbname = pgserver.worker_database_name("es_shared")
    server.create_database(dbname)
    try:
        yield dict(server.settings.env(dbname))
    finally:
        server.drop_database(dbname)
        server.release()


@pytest.fixture(params=installed_backends())
def backend(request: pytest.FixtureRequest) -> str:
    """Each installed backend in turn."""
    name: str = request.param
    return name


@pytest.fixture
def backend_env(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> dict[str, str]:
    """Settings for an application on ``backend``: pass them as ``env=``."""
    postgres: dict[str, Any] = (
        request.getfixturevalue("postgres_env") if backend == "postgres" else {}
    )
    return environ_for(backend, tmp_path, postgres)


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A ``dist/`` folder with every distribution's wheel and sdist, built by the
    script behind ``hatch run build``: once per test run, shared by the xdist
    workers (whose temporary folders share the run's folder)."""
    run = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        run = run.parent
    dist = run / "clone" / "dist"
    with (run / "wheelhouse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other workers wait for the build
        done = dist / ".built"
        if not done.exists():
            build = runpy.run_path(str(BUILD_SCRIPT))["main"]
            assert build([str(dist)]) == 0
            done.touch()
    return dist
