"""What test suites need to know about this backend: the monorepo's integration
suite finds this module through the entry-point group
``eventsourcing.testing.environ``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["environ", "outlives_process"]

outlives_process = True
"""The files outlive the process that wrote them, so tests of restarting run too."""


def environ(tmp_path: Path) -> dict[str, str]:
    """Settings that point the ``jsonlines`` backend at a new directory under
    ``tmp_path``."""
    return {"JSONLINES_PATH": str(tmp_path / "jsonlines")}
