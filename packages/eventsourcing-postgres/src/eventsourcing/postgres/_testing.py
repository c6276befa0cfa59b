"""What test suites need to know about the ``postgres`` backend (the entry-point
group ``eventsourcing.testing.environ``): a new schema for each test, which
outlives the process. The suite supplies the server's settings itself."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

outlives_process = True


def environ(tmp_path: Path) -> dict[str, str]:
    """A schema of its own, which keeps a test apart from others in one database."""
    return {"POSTGRES_SCHEMA": f"test_{uuid.uuid4().hex[:16]}"}
