"""Positions in a file of JSON lines: shared by recorders (standing in for
processes), safe against a writer that crashed mid-line, and clear errors."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Any

import pytest
from eventsourcing_jsonlines import JSONLinesTrackingRecorder

from eventsourcing.persistence import (
    DataError,
    OperationalError,
    RecordConflictError,
    Tracking,
)


def test_recorders_of_one_file_see_each_others_positions(tmp_path: Path) -> None:
    path = tmp_path / "views" / "positions.jsonl"
    first = JSONLinesTrackingRecorder(path)
    second = JSONLinesTrackingRecorder(path, fsync=True)
    first.insert_tracking(Tracking("app", 3))
    assert second.max_tracking_id("app") == 3
    with pytest.raises(RecordConflictError, match="Notification 2 of 'app'"):
        second.insert_tracking(Tracking("app", 2))
    second.insert_tracking(Tracking("app", 4))
    assert first.max_tracking_id("app") == 4
    assert repr(first) == f"JSONLinesTrackingRecorder({str(path)!r})"
    first.close()
    second.close()


def test_a_line_left_half_written_by_a_crash_is_not_a_position(tmp_path: Path) -> None:
    path = tmp_path / "positions.jsonl"
    recorder = JSONLinesTrackingRecorder(path)
    recorder.insert_tracking(Tracking("app", 1))
    with path.open("ab") as file:
        file.write(b'{"application_name": "app", "notifi')
    assert recorder.max_tracking_id("app") == 1
    recorder.insert_tracking(Tracking("app", 2))  # cuts the partial line off
    assert path.read_bytes().count(b"\n") == 2
    assert JSONLinesTrackingRecorder(path).max_tracking_id("app") == 2


def test_a_file_that_is_not_of_positions_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "positions.jsonl"
    path.write_text('{"application_name": "app"}\n')
    with pytest.raises(DataError, match="not a position"):
        JSONLinesTrackingRecorder(path).max_tracking_id("app")


def test_a_file_that_cannot_be_opened_says_which(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(OperationalError, match="Cannot open"):
        JSONLinesTrackingRecorder(tmp_path / "file" / "positions.jsonl")


def test_a_lock_that_fails_leaves_nothing_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = JSONLinesTrackingRecorder(tmp_path / "positions.jsonl")

    def failing_flock(fd: int, operation: int) -> Any:
        raise OSError("no locks today")

    with monkeypatch.context() as patched:
        patched.setattr(fcntl, "flock", failing_flock)
        with pytest.raises(OSError, match="no locks today"):
            recorder.insert_tracking(Tracking("app", 1))
    recorder.insert_tracking(Tracking("app", 1))  # the thread lock was released
    assert recorder.max_tracking_id("app") == 1
