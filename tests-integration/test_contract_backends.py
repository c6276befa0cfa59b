"""The contract test cases of eventsourcing-testing, on every installed backend.

Each backend gets its own subclasses of the cases, generated below; their
recorders come from the backend's factory, selected by name through the
entry-point group exactly as an application selects it.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from harness import environ_for, installed_backends, keeps_positions

import eventsourcing.testing as contract
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    ProcessRecorder,
    TrackingRecorder,
)


class OnBackend:
    """Gives a contract case fresh storage on ``backend`` for every test."""

    backend: str
    _env: dict[str, str]

    @pytest.fixture(autouse=True)
    def _fresh_storage(self, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        postgres: dict[str, str] = (
            request.getfixturevalue("postgres_env")
            if self.backend == "postgres"
            else {}
        )
        self._env = environ_for(self.backend, tmp_path, postgres)

    def new_factory(self) -> InfrastructureFactory:
        return InfrastructureFactory.construct(f"contract{uuid4().hex[:8]}", self._env)


class AggregateRecorderOnBackend(OnBackend):
    def create_recorder(self) -> AggregateRecorder:
        return self.new_factory().aggregate_recorder()


class ApplicationRecorderOnBackend(OnBackend):
    def create_recorder(self) -> ApplicationRecorder:
        return self.new_factory().application_recorder()


class ProcessRecorderOnBackend(OnBackend):
    def create_recorder(self) -> ProcessRecorder:
        return self.new_factory().process_recorder()


class TrackingRecorderOnBackend(OnBackend):
    def create_recorder(self) -> TrackingRecorder:
        return self.new_factory().tracking_recorder()


class EventStoreOnBackend(OnBackend):
    def create_recorder(self) -> ApplicationRecorder:
        return self.new_factory().application_recorder()


class FactoryOnBackend(OnBackend):
    def env(self) -> dict[str, str]:
        return dict(self._env)


CASES: list[tuple[type[Any], type[Any]]] = [
    (AggregateRecorderOnBackend, contract.AggregateRecorderTestCase),
    (ApplicationRecorderOnBackend, contract.ApplicationRecorderTestCase),
    (ProcessRecorderOnBackend, contract.ProcessRecorderTestCase),
    (EventStoreOnBackend, contract.EventStoreTestCase),
    (TrackingRecorderOnBackend, contract.TrackingRecorderTestCase),
]


def factory_case(backend: str) -> type[Any]:
    """The factory contract case for ``backend``: its registered factory class must
    give recorders of the three documented kinds."""
    (entry_point,) = entry_points(group="eventsourcing.infrastructure", name=backend)
    return type(
        f"TestInfrastructureFactoryOn_{backend}",
        (FactoryOnBackend, contract.InfrastructureFactoryTestCase),
        {
            "backend": backend,
            "__module__": __name__,
            "expected_factory_class": entry_point.load(),
            "expected_aggregate_recorder_class": AggregateRecorder,
            "expected_application_recorder_class": ApplicationRecorder,
            "expected_process_recorder_class": ProcessRecorder,
            "expected_tracking_recorder_class": (
                TrackingRecorder if keeps_positions(backend) else None
            ),
        },
    )


for _backend in installed_backends():
    for _mixin, _case in CASES:
        if _case is contract.TrackingRecorderTestCase and not keeps_positions(_backend):
            continue  # optional: the factory case checks that it says so
        _name = f"Test{_case.__name__.removesuffix('TestCase')}On_{_backend}"
        globals()[_name] = type(
            _name, (_mixin, _case), {"backend": _backend, "__module__": __name__}
        )
    _factory_case = factory_case(_backend)
    globals()[_factory_case.__name__] = _factory_case
