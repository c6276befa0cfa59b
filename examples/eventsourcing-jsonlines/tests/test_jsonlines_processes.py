"""Separate processes writing one file keep every batch whole, never duplicate a
notification ID, and never let a reader tailing the file see IDs out of order."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from eventsourcing_jsonlines import JSONLinesProcessRecorder

from eventsourcing.persistence import Notification

WRITER = textwrap.dedent(
    """
    import sys
    import time
    from pathlib import Path
    from uuid import uuid4
    from eventsourcing.persistence import StoredEvent, Tracking
    from eventsourcing_jsonlines import JSONLinesProcessRecorder

    path, name, batches, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    recorder = JSONLinesProcessRecorder(path)
    deadline = time.monotonic() + 60
    while not Path(go).exists() and time.monotonic() < deadline:  # start together
        time.sleep(0.001)
    for position in range(1, batches + 1):
        originator_id = uuid4()
        events = [StoredEvent(originator_id, v, "tests:E", b"x") for v in (1, 2, 3)]
        recorder.insert_events(events, tracking=Tracking(name, position))
    """
)


def test_processes_writing_one_file_keep_batches_whole_and_ids_unique(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.jsonl"
    go = tmp_path / "go"
    processes, batches = 3, 60
    reader = JSONLinesProcessRecorder(path)
    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                str(path),
                f"writer{i}",
                str(batches),
                str(go),
            ]
        )
        for i in range(processes)
    ]
    go.touch()
    seen: list[Notification] = []
    while any(w.poll() is None for w in writers):
        for notification in reader.select_notifications(len(seen) + 1, 1000):
            assert notification.id == len(seen) + 1, "a reader saw a gap"
            seen.append(notification)
        time.sleep(0.001)
    assert [w.wait() for w in writers] == [0] * processes

    expected = processes * batches * 3
    notifications = reader.select_notifications(1, expected + 1)
    assert [n.id for n in notifications] == list(range(1, expected + 1))
    assert notifications[: len(seen)] == seen
    for i in range(0, expected, 3):
        batch = notifications[i : i + 3]
        assert {n.originator_id for n in batch} == {batch[0].originator_id}
        assert [n.originator_version for n in batch] == [1, 2, 3]
    for i in range(processes):
        assert reader.max_tracking_id(f"writer{i}") == batches
    assert len(path.read_bytes().splitlines()) == processes * batches
