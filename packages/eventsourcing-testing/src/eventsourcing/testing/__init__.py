"""Contract test cases that every persistence backend runs: abstract
:class:`unittest.TestCase` classes that a backend subclasses, implementing one
factory method (see the README of eventsourcing-testing)."""

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

__all__ = [
    "AggregateRecorderTestCase",
    "ApplicationRecorderTestCase",
    "ContractTestCase",
    "EventStoreTestCase",
    "InfrastructureFactoryTestCase",
    "ProcessRecorderTestCase",
]
