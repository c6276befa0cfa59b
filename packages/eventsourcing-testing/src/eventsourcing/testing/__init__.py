"""Contract test cases that every persistence backend runs: abstract
:class:`unittest.TestCase` classes that a backend subclasses, implementing one
factory method (see the README of eventsourcing-testing)."""

from typing import TYPE_CHECKING

from eventsourcing.testing._base import ContractTestCase
from eventsourcing.testing._factory import (
    EventStoreTestCase,
    InfrastructureFactoryTestCase,
)
from eventsourcing.testing._recorders import (
    AggregateRecorderTestCase,
    ApplicationRecorderTestCase,
    ProcessRecorderTestCase,
)
from eventsourcing.testing._tracking import TrackingRecorderTestCase
from eventsourcing.utils import publish, version_getter

__all__ = [
    "AggregateRecorderTestCase",
    "ApplicationRecorderTestCase",
    "ContractTestCase",
    "EventStoreTestCase",
    "InfrastructureFactoryTestCase",
    "ProcessRecorderTestCase",
    "TrackingRecorderTestCase",
]

publish(__name__, globals())
if TYPE_CHECKING:
    __version__: str
else:
    __getattr__ = version_getter("eventsourcing-testing")
