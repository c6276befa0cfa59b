"""Infrastructure factory that builds JSON-lines recorders from environment
variables."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, cast

from eventsourcing.persistence import (
    ConfigurationError,
    InfrastructureFactory,
    ProgrammingError,
    TrackingRecorder,
)
from eventsourcing.utils import strtobool
from eventsourcing_jsonlines._recorders import (
    JSONLinesAggregateRecorder,
    JSONLinesApplicationRecorder,
    JSONLinesProcessRecorder,
)
from eventsourcing_jsonlines._tracking import JSONLinesTrackingRecorder

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["Factory"]

_FILE_STEM = re.compile(r"[a-z0-9_][a-z0-9_.-]*\Z")


class Factory(InfrastructureFactory):
    """Constructs JSON-lines recorders for one application, configured by environment.

    ``"JSONLINES_PATH"`` (required) is the directory of the files, created when
    missing; ``"JSONLINES_FSYNC"`` (default false) says whether to ``fsync`` each
    write. Files are named after the application and purpose
    (``worlds_events.jsonl``, ``worlds_snapshots.jsonl``), so several applications
    can share one directory. Tracking records go in the events file; the positions
    of a tracking recorder in ``<name>_positions.jsonl``.
    """

    tracking_recorder_base = JSONLinesTrackingRecorder

    JSONLINES_PATH = "JSONLINES_PATH"
    JSONLINES_FSYNC = "JSONLINES_FSYNC"

    def __init__(self, application_name: str, env: Mapping[str, str]) -> None:
        super().__init__(application_name, env)
        path = self.getenv(self.JSONLINES_PATH)
        if not path:
            msg = (
                f"{self.JSONLINES_PATH} is not set. Set {self.JSONLINES_PATH} to the "
                "directory of the event files (it is created if missing) to use the "
                "'jsonlines' persistence backend."
            )
            raise ConfigurationError(msg)
        self.path = Path(path)
        fsync = self.getenv(self.JSONLINES_FSYNC) or "no"
        try:
            self.fsync = bool(strtobool(fsync))
        except ValueError as e:
            msg = (
                f"{self.JSONLINES_FSYNC}={fsync!r} is not a truth value. Use one of "
                "'y', 'yes', 't', 'true', 'on', '1' or 'n', 'no', 'f', 'false', 'off', "
                "'0'."
            )
            raise ConfigurationError(msg) from e

    def file_path(self, purpose: str) -> Path:
        """The file of the records of ``purpose`` ("events" or "snapshots")."""
        prefix = self.application_name.lower()
        stem = f"{prefix}_{purpose}" if prefix else purpose
        if not _FILE_STEM.match(stem):
            msg = (
                f"Cannot name a JSON-lines file {stem!r}: the application name and "
                "purpose may hold only letters, digits, '_', '.' and '-', and may not "
                "start with '.' or '-'."
            )
            raise ProgrammingError(msg)
        return self.path / f"{stem}.jsonl"

    def aggregate_recorder(self, purpose: str = "events") -> JSONLinesAggregateRecorder:
        """Constructs an aggregate recorder whose file is named after ``purpose``."""
        return JSONLinesAggregateRecorder(self.file_path(purpose), fsync=self.fsync)

    def application_recorder(self) -> JSONLinesApplicationRecorder:
        """Constructs an application recorder."""
        return JSONLinesApplicationRecorder(self.file_path("events"), fsync=self.fsync)

    def process_recorder(self) -> JSONLinesProcessRecorder:
        """Constructs a process recorder (tracking records in the events file)."""
        return JSONLinesProcessRecorder(self.file_path("events"), fsync=self.fsync)

    def _construct_tracking_recorder(
        self, cls: type[TrackingRecorder]
    ) -> JSONLinesTrackingRecorder:
        """Constructs a tracking recorder whose file is named after the application."""
        return cast(type[JSONLinesTrackingRecorder], cls)(
            self.file_path("positions"), fsync=self.fsync
        )
