"""The file itself: one line per batch, crash-safety, several recorders (standing in
for processes) sharing one file, conflicts that write nothing, and errors."""

from __future__ import annotations

import base64
import json
import os
import threading
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing_jsonlines import (
    JSONLinesAggregateRecorder,
    JSONLinesApplicationRecorder,
    JSONLinesProcessRecorder,
)

from eventsourcing.persistence import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    RecordConflictError,
    StoredEvent,
    Tracking,
)


def _event(originator_id: UUID | None = None, version: int = 1) -> StoredEvent:
    return StoredEvent(originator_id or uuid4(), version, "tests:Event", b"\x00\xff")


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def test_each_batch_is_one_line_with_ids_base64_state_and_tracking(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.jsonl"
    recorder = JSONLinesProcessRecorder(path)
    e1, e2, e3 = _event(), _event(), _event()

    recorder.insert_events([e1, e2])
    recorder.insert_events([e3], tracking=Tracking("upstream", 7))
    recorder.insert_events([], tracking=Tracking("upstream", 8))

    first, second, third = _lines(path)
    assert first == {
        "events": [
            {
                "id": i,
                "originator_id": str(e.originator_id),
                "originator_version": 1,
                "topic": "tests:Event",
                "state": base64.b64encode(b"\x00\xff").decode(),
            }
            for i, e in ((1, e1), (2, e2))
        ]
    }
    assert [e["id"] for e in second["events"]] == [3]
    assert second["tracking"] == {"application_name": "upstream", "notification_id": 7}
    assert third == {
        "events": [],
        "tracking": {"application_name": "upstream", "notification_id": 8},
    }


def test_inserting_nothing_writes_no_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    JSONLinesProcessRecorder(path).insert_events([])

    assert path.read_bytes() == b""


def test_a_new_recorder_reads_what_the_file_holds(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    first = JSONLinesProcessRecorder(path)
    originator_id = uuid4()
    events = [_event(originator_id, v) for v in (1, 2, 3)]
    first.insert_events(events[:2], tracking=Tracking("upstream", 4))
    first.insert_events(events[2:])
    first.close()

    again = JSONLinesProcessRecorder(path)

    assert again.select_events(originator_id) == events
    assert [n.id for n in again.select_notifications(1, 10)] == [1, 2, 3]
    assert again.max_tracking_id("upstream") == 4


def test_a_trailing_partial_line_is_ignored_then_cut_off_by_the_next_write(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.jsonl"
    recorder = JSONLinesApplicationRecorder(path)
    e1 = _event()
    recorder.insert_events([e1])
    whole = path.read_bytes()
    # A writer crashed half way through its line.
    with path.open("ab") as f:
        f.write(whole[: len(whole) // 2])

    reopened = JSONLinesApplicationRecorder(path)
    assert reopened.max_notification_id() == 1
    assert recorder.max_notification_id() == 1
    assert reopened.select_events(e1.originator_id) == [e1]

    e2 = _event()
    reopened.insert_events([e2])

    lines = path.read_bytes().splitlines(keepends=True)
    assert len(lines) == 2
    assert all(line.endswith(b"\n") for line in lines)
    assert [n.id for n in recorder.select_notifications(1, 10)] == [1, 2]
    assert recorder.select_events(e2.originator_id) == [e2]
    assert JSONLinesApplicationRecorder(path).max_notification_id() == 2


def test_a_line_being_written_is_read_once_it_is_complete(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    writer = JSONLinesApplicationRecorder(tmp_path / "elsewhere.jsonl")
    writer.insert_events([_event()])
    line = (tmp_path / "elsewhere.jsonl").read_bytes()
    reader = JSONLinesApplicationRecorder(path)

    with path.open("ab") as f:
        f.write(line[:10])
        f.flush()
        assert reader.max_notification_id() == 0
        f.write(line[10:])
        f.flush()
        assert reader.max_notification_id() == 1


@pytest.mark.parametrize(
    "line",
    [
        b"not json",
        b"[]",
        b'"text"',
        b"{}",
        b'{"events": [{"id": 1}]}',
        (
            b'{"events": [{"id": 1, "originator_id": "x", "originator_version": 1,'
            b' "topic": "t", "state": ""}]}'
        ),
        (
            b'{"events": [{"id": 1, "originator_id": "' + str(uuid4()).encode() + b'",'
            b' "originator_version": 1, "topic": "t", "state": "not base64!"}]}'
        ),
        b'{"events": [], "tracking": "upstream"}',
        b'{"events": [], "tracking": {"application_name": "u"}}',
        b"\xff\xfe",
    ],
)
def test_a_complete_line_that_is_not_a_batch_is_a_data_error(
    tmp_path: Path, line: bytes
) -> None:
    path = tmp_path / "events.jsonl"
    JSONLinesApplicationRecorder(path).insert_events([_event()])
    offset = path.stat().st_size
    with path.open("ab") as f:
        f.write(line + b"\n")

    with pytest.raises(DataError, match=f"line at byte {offset} of .*corrupt") as info:
        JSONLinesApplicationRecorder(path)
    assert isinstance(info.value.__cause__, ValueError | KeyError | TypeError)


def test_a_file_that_shrank_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    recorder = JSONLinesApplicationRecorder(path)
    recorder.insert_events([_event()])
    path.write_bytes(b"")

    with pytest.raises(DataError, match="truncated or replaced"):
        recorder.max_notification_id()


def test_two_recorders_on_one_file_see_each_others_writes(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    a = JSONLinesProcessRecorder(path)
    b = JSONLinesProcessRecorder(path)
    ea, eb = _event(), _event()

    a.insert_events([ea])
    assert b.select_events(ea.originator_id) == [ea]
    b.insert_events([eb], tracking=Tracking("upstream", 1))
    assert a.select_events(eb.originator_id) == [eb]
    assert a.max_tracking_id("upstream") == 1
    a.insert_events([_event(), _event()])

    for recorder in (a, b):
        notifications = recorder.select_notifications(1, 10)
        assert [n.id for n in notifications] == [1, 2, 3, 4]
        assert notifications[0].originator_id == ea.originator_id
        assert notifications[1].originator_id == eb.originator_id
        assert recorder.max_notification_id() == 4


def test_two_recorders_writing_concurrently_never_duplicate_ids(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.jsonl"
    recorders = [JSONLinesApplicationRecorder(path) for _ in range(2)]
    batches, errors = 50, []

    def write(recorder: JSONLinesApplicationRecorder) -> None:
        try:
            for _ in range(batches):
                originator_id = uuid4()
                recorder.insert_events([_event(originator_id, v) for v in (1, 2)])
        except BaseException as e:  # pragma: no cover (only on failure)
            errors.append(e)

    threads = [
        threading.Thread(target=write, args=(r,)) for r in recorders for _ in (1, 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    expected = list(range(1, len(threads) * batches * 2 + 1))
    for recorder in [*recorders, JSONLinesApplicationRecorder(path)]:
        notifications = recorder.select_notifications(1, len(expected) + 1)
        assert [n.id for n in notifications] == expected
        for first, second in zip(notifications[::2], notifications[1::2], strict=True):
            assert first.originator_id == second.originator_id
            assert (first.originator_version, second.originator_version) == (1, 2)


def test_a_conflict_with_another_recorders_write_writes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.jsonl"
    a = JSONLinesApplicationRecorder(path)
    b = JSONLinesApplicationRecorder(path)
    originator_id = uuid4()
    ea = _event(originator_id, 1)
    a.insert_events([ea])
    before = path.read_bytes()

    # b has not read a's line yet; it does under the file lock, and refuses.
    with pytest.raises(RecordConflictError, match="already recorded"):
        b.insert_events([_event(), _event(originator_id, 1)])

    assert path.read_bytes() == before
    assert b.select_events(originator_id) == [ea]
    assert b.max_notification_id() == 1


@pytest.mark.parametrize("kind", ["recorded", "twice in one batch"])
def test_an_event_conflict_writes_nothing(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "events.jsonl"
    recorder = JSONLinesApplicationRecorder(path)
    originator_id = uuid4()
    recorder.insert_events([_event(originator_id, 1)])
    before = path.read_bytes()
    batch = (
        [_event(originator_id, 2), _event(originator_id, 1)]
        if kind == "recorded"
        else [_event(originator_id, 2), _event(originator_id, 2)]
    )

    with pytest.raises(RecordConflictError):
        recorder.insert_events(batch)

    assert path.read_bytes() == before
    assert recorder.max_notification_id() == 1


def test_a_duplicate_tracking_record_is_an_integrity_error_and_writes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.jsonl"
    a = JSONLinesProcessRecorder(path)
    b = JSONLinesProcessRecorder(path)
    a.insert_events([_event()], tracking=Tracking("upstream", 1))
    before = path.read_bytes()

    event = _event()
    with pytest.raises(IntegrityError, match="already tracked"):
        b.insert_events([event], tracking=Tracking("upstream", 1))

    assert path.read_bytes() == before
    assert b.select_events(event.originator_id) == []
    assert b.max_notification_id() == 1


def test_snapshots_of_earlier_versions_are_kept_in_version_order(
    tmp_path: Path,
) -> None:
    recorder = JSONLinesAggregateRecorder(tmp_path / "snapshots.jsonl")
    originator_id = uuid4()
    s5, s2 = _event(originator_id, 5), _event(originator_id, 2)
    recorder.insert_events([s5])
    recorder.insert_events([s2])

    assert recorder.select_events(originator_id) == [s2, s5]
    assert recorder.select_events(originator_id, desc=True, limit=1) == [s5]
    assert JSONLinesAggregateRecorder(recorder.path).select_events(originator_id) == [
        s2,
        s5,
    ]


class FakeOS:
    """Stands in for the ``os`` module of the store, failing where told to."""

    def __init__(self, **overrides: Any) -> None:
        self.overrides = overrides
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return self.overrides.get(name, getattr(os, name))


def _use_os(monkeypatch: pytest.MonkeyPatch, fake: FakeOS) -> None:
    monkeypatch.setattr("eventsourcing_jsonlines._store.os", fake)


def test_a_failed_write_records_nothing_and_cuts_off_what_it_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.jsonl"
    recorder = JSONLinesApplicationRecorder(path)
    recorder.insert_events([_event()])
    before = path.read_bytes()

    def write_half_then_fail(fd: int, data: bytes) -> int:
        os.write(fd, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    _use_os(monkeypatch, FakeOS(write=write_half_then_fail))
    event = _event()
    with pytest.raises(OperationalError, match=r"No space left.*nothing was recorded"):
        recorder.insert_events([event])
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert recorder.select_events(event.originator_id) == []
    recorder.insert_events([event])
    assert [n.id for n in recorder.select_notifications(1, 10)] == [1, 2]


def test_a_short_write_is_a_failed_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.jsonl"
    recorder = JSONLinesApplicationRecorder(path)

    def write_short(fd: int, data: bytes) -> int:
        return os.write(fd, data[:-1])

    _use_os(monkeypatch, FakeOS(write=write_short))
    with pytest.raises(OperationalError, match=r"wrote \d+ of \d+ bytes") as info:
        recorder.insert_events([_event()])
    monkeypatch.undo()

    assert isinstance(info.value.__cause__, OSError)
    assert path.read_bytes() == b""
    assert recorder.max_notification_id() == 0


def test_what_a_failed_write_left_is_cut_off_by_the_next_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.jsonl"
    recorder = JSONLinesApplicationRecorder(path)
    truncations: list[int] = []

    def write_half_then_fail(fd: int, data: bytes) -> int:
        os.write(fd, data[: len(data) // 2])
        raise OSError(5, "Input/output error")

    def ftruncate_once(fd: int, length: int) -> None:
        truncations.append(length)
        if len(truncations) > 1:
            raise OSError(5, "Input/output error")
        os.ftruncate(fd, length)

    _use_os(monkeypatch, FakeOS(write=write_half_then_fail, ftruncate=ftruncate_once))
    with pytest.raises(OperationalError, match="Input/output error"):
        recorder.insert_events([_event()])
    monkeypatch.undo()

    assert truncations == [0, 0]
    assert path.stat().st_size > 0  # the half line is still there...
    assert recorder.max_notification_id() == 0  # ...ignored by readers
    event = _event()
    JSONLinesApplicationRecorder(path).insert_events([event])
    assert len(path.read_bytes().splitlines()) == 1
    assert recorder.select_events(event.originator_id) == [event]


def test_fsync_is_called_after_each_write_only_when_enabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    fake = FakeOS(fsync=synced.append)
    _use_os(monkeypatch, fake)

    JSONLinesApplicationRecorder(tmp_path / "a.jsonl").insert_events([_event()])
    assert synced == []
    recorder = JSONLinesApplicationRecorder(tmp_path / "b.jsonl", fsync=True)
    recorder.insert_events([_event()])
    recorder.insert_events([_event()])
    assert len(synced) == 2


def test_read_errors_are_operational_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = JSONLinesApplicationRecorder(tmp_path / "events.jsonl")

    def fail(*args: Any) -> Any:
        raise OSError(5, "Input/output error")

    _use_os(monkeypatch, FakeOS(pread=fail, fstat=fail))
    with pytest.raises(OperationalError, match=r"Cannot read .*Input/output") as info:
        recorder.max_notification_id()
    assert isinstance(info.value.__cause__, OSError)


def test_lock_errors_are_operational_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.jsonl"
    recorder = JSONLinesApplicationRecorder(path)

    class FakeFcntl:
        LOCK_EX = 2
        LOCK_UN = 8

        @staticmethod
        def flock(fd: int, operation: int) -> None:
            raise OSError(37, "No locks available")

    monkeypatch.setattr("eventsourcing_jsonlines._store.fcntl", FakeFcntl)
    with pytest.raises(OperationalError, match=r"Cannot lock .*No locks available"):
        recorder.insert_events([_event()])
    monkeypatch.undo()

    assert path.read_bytes() == b""
    recorder.insert_events([_event()])
    assert recorder.max_notification_id() == 1


def test_a_closed_recorder_refuses_to_work(tmp_path: Path) -> None:
    recorder = JSONLinesProcessRecorder(tmp_path / "events.jsonl")
    recorder.close()
    recorder.close()

    with pytest.raises(InterfaceError, match="is closed; construct a new one"):
        recorder.insert_events([_event()])
    with pytest.raises(InterfaceError):
        recorder.select_events(uuid4())
    with pytest.raises(InterfaceError):
        recorder.max_tracking_id("upstream")


def test_the_file_is_closed_when_the_recorder_is_collected(tmp_path: Path) -> None:
    recorder = JSONLinesApplicationRecorder(tmp_path / "events.jsonl")
    finalizer = recorder._store._finalizer
    assert finalizer.alive

    del recorder

    assert not finalizer.alive


def test_a_forked_child_reopens_the_file_so_its_lock_is_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.jsonl"
    recorder = JSONLinesApplicationRecorder(path)
    recorder.insert_events([_event()])
    store = recorder._store
    old_finalizer = store._finalizer
    store._pid = -1  # as if this were a child of the process that opened the file
    fake = FakeOS()
    _use_os(monkeypatch, fake)

    event = _event()
    recorder.insert_events([event])

    assert fake.calls[:3] == ["getpid", "close", "open"]
    assert store._pid == os.getpid()
    assert not old_finalizer.alive
    assert store._finalizer.alive
    assert recorder.select_events(event.originator_id) == [event]
    assert recorder.max_notification_id() == 2


def test_max_tracking_id_is_the_greatest_whatever_the_order(tmp_path: Path) -> None:
    recorder = JSONLinesProcessRecorder(tmp_path / "events.jsonl")
    recorder.insert_events([], tracking=Tracking("upstream", 5))
    recorder.insert_events([], tracking=Tracking("upstream", 3))

    assert recorder.max_tracking_id("upstream") == 5
    with pytest.raises(RecordConflictError):
        recorder.insert_events([], tracking=Tracking("upstream", 3))
    assert JSONLinesProcessRecorder(recorder.path).max_tracking_id("upstream") == 5
