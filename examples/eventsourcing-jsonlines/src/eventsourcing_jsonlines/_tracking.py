"""A tracking recorder that appends positions to a file of JSON lines."""

from __future__ import annotations

import fcntl
import json
import os
import threading
from pathlib import Path
from typing import Any

from eventsourcing.persistence import (
    DataError,
    OperationalError,
    RecordConflictError,
    TrackingRecorder,
)

__all__ = ["JSONLinesTrackingRecorder"]


class JSONLinesTrackingRecorder(TrackingRecorder):
    """Records positions as lines appended to a file, ``{"application_name": ...,
    "notification_id": ...}``, the last line of an application being its position.

    A transaction holds an exclusive ``flock`` on the file from beginning to end,
    so the positions of concurrent writers, in any process, never cross. It
    records nothing but positions: a view that keeps its data elsewhere is
    atomic with them only if it writes its data in the same way.
    """

    def __init__(self, path: str | os.PathLike[str], fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self._lock = threading.Lock()
        self._positions: dict[str, int] = {}
        self._offset = 0  # bytes of complete lines read into _positions
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as e:
            msg = f"Cannot open the JSON-lines file {str(self.path)!r}: {e}"
            raise OperationalError(msg) from e

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def close(self) -> None:
        """Closes the file."""
        with self._lock:
            os.close(self._fd)

    def max_tracking_id(self, application_name: str) -> int:
        """Returns the position of the named application (0 before any)."""
        with self._lock:
            self._catch_up()
            return self._positions.get(application_name, 0)

    def _catch_up(self) -> None:
        """Reads the complete lines appended since the last reading."""
        data = os.pread(
            self._fd, os.fstat(self._fd).st_size - self._offset, self._offset
        )
        end = data.rfind(b"\n") + 1
        for line in data[:end].splitlines():
            try:
                record: dict[str, Any] = json.loads(line)
                self._positions[str(record["application_name"])] = int(
                    record["notification_id"]
                )
            except (ValueError, KeyError, TypeError) as e:
                msg = f"{str(self.path)!r} holds a line that is not a position: {e!r}"
                raise DataError(msg) from e
        self._offset += end

    def _begin(self) -> tuple[Any, Any]:
        self._lock.acquire()
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._lock.release()
            raise
        return None, None

    def _end(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._lock.release()

    def _commit(self, state: Any, positions: dict[str, tuple[int, int]]) -> None:
        try:
            self._catch_up()
            for name, (first, _) in positions.items():
                if self._positions.get(name, 0) >= first:
                    msg = (
                        f"Notification {first} of {name!r} was already processed "
                        f"into {self!r}; nothing was recorded"
                    )
                    raise RecordConflictError(msg)
            lines = b"".join(
                json.dumps(
                    {"application_name": name, "notification_id": last},
                    separators=(",", ":"),
                ).encode("ascii")
                + b"\n"
                for name, (_, last) in positions.items()
            )
            # A partial line left by a writer that crashed was never recorded.
            os.ftruncate(self._fd, self._offset)
            os.write(self._fd, lines)
            if self.fsync:
                os.fsync(self._fd)
            self._catch_up()
        finally:
            self._end()

    def _rollback(self, state: Any, error: BaseException) -> None:
        self._end()
