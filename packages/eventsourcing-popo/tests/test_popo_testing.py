"""What popo declares to test suites through ``eventsourcing.testing.environ``."""

from __future__ import annotations

from importlib.metadata import entry_points
from uuid import uuid4

import eventsourcing.popo._testing as declared
from eventsourcing.persistence import InfrastructureFactory, StoredEvent


def test_popo_declares_that_its_storage_does_not_outlive_the_process() -> None:
    (entry_point,) = entry_points(group="eventsourcing.testing.environ", name="popo")
    assert entry_point.load() is declared
    assert declared.outlives_process is False
    assert not hasattr(declared, "environ")  # no settings needed

    # Which is so: what one factory stored, the next one with the same settings
    # (as a new process would make) does not find.
    env = {"INFRASTRUCTURE_FACTORY": "popo"}
    recorder = InfrastructureFactory.construct("app", env).application_recorder()
    recorder.insert_events([StoredEvent(uuid4(), 1, "t", b"{}")])
    again = InfrastructureFactory.construct("app", env).application_recorder()
    assert again.max_notification_id() == 0
