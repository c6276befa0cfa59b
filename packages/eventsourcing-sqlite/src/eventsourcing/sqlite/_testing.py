"""What test suites need to know about the ``sqlite`` backend (the entry-point group
``eventsourcing.testing.environ``): a new database file for each test, which
outlives the process."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

outlives_process = True


def environ(tmp_path: Path) -> dict[str, str]:
    """Settings for a new database file under ``tmp_path``."""
    return {"SQLITE_DBNAME": str(tmp_path / "sqlite.db")}
