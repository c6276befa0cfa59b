"""The contract test cases: abstract bases are not collected, subclasses are, and
the cases pass on the reference (popo) backend."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from eventsourcing.persistence import AggregateRecorder, Notification
from eventsourcing.popo import (
    Factory,
    POPOAggregateRecorder,
    POPOApplicationRecorder,
    POPOProcessRecorder,
    POPOTrackingRecorder,
)
from eventsourcing.testing import (
    AggregateRecorderTestCase,
    ApplicationRecorderTestCase,
    ContractTestCase,
    EventStoreTestCase,
    InfrastructureFactoryTestCase,
    ProcessRecorderTestCase,
    TrackingRecorderTestCase,
)

ABSTRACT_CASES = [
    ContractTestCase,
    AggregateRecorderTestCase,
    ApplicationRecorderTestCase,
    ProcessRecorderTestCase,
    EventStoreTestCase,
    InfrastructureFactoryTestCase,
    TrackingRecorderTestCase,
]


class TestReferenceProcessRecorder(ProcessRecorderTestCase):
    def create_recorder(self) -> POPOProcessRecorder:
        return POPOProcessRecorder()


class TestReferenceTrackingRecorder(TrackingRecorderTestCase):
    def create_recorder(self) -> POPOTrackingRecorder:
        return POPOTrackingRecorder()


class WithoutTopics(POPOApplicationRecorder):
    """A recorder written before topic filters: it selects every notification."""

    def select_notifications(self, start: int, limit: int) -> list[Notification]:  # type: ignore[override]  # the 9.1 signature, on purpose
        return super().select_notifications(start, limit)


class TestRecorderThatCannotFilterByTopic(ApplicationRecorderTestCase):
    """The core filters what such a recorder selects, so it keeps the contract."""

    def create_recorder(self) -> WithoutTopics:
        return WithoutTopics()


class TestReferenceEventStore(EventStoreTestCase):
    def create_recorder(self) -> POPOAggregateRecorder:
        return POPOAggregateRecorder()


class TestReferenceFactory(InfrastructureFactoryTestCase):
    expected_factory_class = Factory
    expected_aggregate_recorder_class = POPOAggregateRecorder
    expected_application_recorder_class = POPOApplicationRecorder
    expected_process_recorder_class = POPOProcessRecorder
    expected_tracking_recorder_class = POPOTrackingRecorder

    def env(self) -> dict[str, str]:
        return {"INFRASTRUCTURE_FACTORY": "popo"}


class WithoutTrackingRecorders(Factory):
    """A backend written before tracking recorders."""

    tracking_recorder_base = None


class TestFactoryWithoutTrackingRecorders(InfrastructureFactoryTestCase):
    expected_factory_class = WithoutTrackingRecorders
    expected_aggregate_recorder_class = POPOAggregateRecorder
    expected_application_recorder_class = POPOApplicationRecorder
    expected_process_recorder_class = POPOProcessRecorder

    def env(self) -> dict[str, str]:
        return {"INFRASTRUCTURE_FACTORY": f"{__name__}:WithoutTrackingRecorders"}


def test_abstract_cases_say_they_are_not_tests() -> None:
    for case in ABSTRACT_CASES:
        assert case.__dict__["__test__"] is False, case


def test_subclasses_are_tests_unless_they_say_otherwise() -> None:
    class Concrete(AggregateRecorderTestCase):
        def create_recorder(self) -> AggregateRecorder:
            return POPOAggregateRecorder()

    class StillAbstract(AggregateRecorderTestCase):
        __test__ = False

    assert Concrete.__test__ is True
    assert StillAbstract.__test__ is False


def test_pytest_collects_only_the_concrete_subclass(tmp_path: Path) -> None:
    test_file = tmp_path / "test_backend_contract.py"
    test_file.write_text(
        textwrap.dedent(
            """
            from eventsourcing.popo import POPOAggregateRecorder
            from eventsourcing.testing import *  # noqa: F403
            from eventsourcing.testing import AggregateRecorderTestCase


            class TestMyRecorder(AggregateRecorderTestCase):
                def create_recorder(self):
                    return POPOAggregateRecorder()
            """
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            *("-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q"),
            str(test_file),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    node_ids = [line for line in result.stdout.splitlines() if "::" in line]
    assert node_ids, result.stdout
    assert all("::TestMyRecorder::" in node_id for node_id in node_ids), node_ids
