"""What sqlite declares to test suites through ``eventsourcing.testing.environ``."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from uuid import uuid4

import eventsourcing.sqlite._testing as declared
from eventsourcing.persistence import InfrastructureFactory, StoredEvent


def test_sqlite_declares_a_new_file_whose_storage_outlives_the_process(
    tmp_path: Path,
) -> None:
    (entry_point,) = entry_points(group="eventsourcing.testing.environ", name="sqlite")
    assert entry_point.load() is declared
    assert declared.outlives_process is True
    settings = declared.environ(tmp_path)
    assert settings == {"SQLITE_DBNAME": str(tmp_path / "sqlite.db")}

    env = {"INFRASTRUCTURE_FACTORY": "sqlite", **settings}
    first = InfrastructureFactory.construct("app", env)
    first.application_recorder().insert_events([StoredEvent(uuid4(), 1, "t", b"{}")])
    first.close()
    again = InfrastructureFactory.construct("app", env)
    assert again.application_recorder().max_notification_id() == 1
    again.close()
