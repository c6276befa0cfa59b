"""A follower split into partitions: each aggregate's events are processed in log
order by one partition, each partition keeps its own position, one partition
keeps today's tracking rows, and a changed number of partitions is refused."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import zlib
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent
from eventsourcing.persistence import (
    ConfigurationError,
    IntegrityError,
    RecordConflictError,
    Tracking,
)
from eventsourcing.system import (
    Follower,
    MultiThreadedRunner,
    PartitionsChanged,
    ProcessEvent,
    SingleThreadedRunner,
    System,
)
from eventsourcing.system._partitions import (
    MAX_PARTITIONS,
    decode_layout,
    encode_layout,
    partition_of,
)


class Item(Aggregate):
    @classmethod
    def create(cls, item_id: UUID | None = None) -> Item:
        item: Item = cls._create(event_class=cls.Created, id=item_id or uuid4())
        return item

    class Created(AggregateCreated["Item"]):
        pass

    def touch(self) -> None:
        self.trigger_event(self.Touched)

    class Touched(AggregateEvent["Item"]):
        pass


class Items(Application):
    def add(self, n: int, touches: int = 0, first: int | None = None) -> list[UUID]:
        """Saves ``n`` new items, touched ``touches`` times each; with IDs from
        ``UUID(int=first)`` on (so their partitions are known), if given."""
        ids = []
        for i in range(n):
            item = Item.create(None if first is None else UUID(int=first + i))
            self.save(item)
            for _ in range(touches):
                item.touch()
                self.save(item)
            ids.append(item.id)
        return ids


class Seen(Follower):
    """Keeps what it processed, in order: (partition, originator ID, version)."""

    def __init__(self, env: Any = None) -> None:
        super().__init__(env)
        self.seen: list[tuple[int, UUID, int]] = []
        self.pending: list[tuple[int, UUID, int]] = []

    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        self.pending = [
            (
                self.partition_of(domain_event.originator_id),
                domain_event.originator_id,
                domain_event.originator_version,
            )
        ]

    def record(self, process_event: ProcessEvent) -> Any:
        recordings = super().record(process_event)
        self.seen.extend(self.pending)
        return recordings


class Seen3(Seen):
    partitions = 3


def sqlite_env(path: Path) -> dict[str, str]:
    return {"INFRASTRUCTURE_FACTORY": "sqlite", "SQLITE_DBNAME": str(path)}


def tracking_rows(path: Path, table: str) -> list[tuple[str, int]]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            f"SELECT application_name, notification_id FROM {table} ORDER BY 2, 1"
        ).fetchall()
    connection.close()
    return [(name, notification_id) for name, notification_id in rows]


def test_the_partition_of_an_aggregate_is_the_same_in_every_process() -> None:
    ids = [uuid4() for _ in range(20)]
    here = [partition_of(i, 7) for i in ids]
    script = (
        "import sys, uuid\n"
        "from eventsourcing.system._partitions import partition_of\n"
        "print([partition_of(uuid.UUID(a), 7) for a in sys.argv[1:]])"
    )
    for seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-c", script, *map(str, ids)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert result.stdout.strip() == str(here)
    # The documented formula, which recorded positions depend on.
    assert here == [zlib.crc32(i.bytes) % 7 for i in ids]
    assert partition_of(UUID(int=0), 4) == 0xECBB4B55 % 4


def test_partitions_share_aggregates_about_evenly() -> None:
    counts = [0, 0, 0, 0]
    for _ in range(4000):
        counts[partition_of(uuid4(), 4)] += 1
    assert all(800 < count < 1200 for count in counts), counts


def test_one_partition_records_exactly_the_tracking_rows_of_before(
    tmp_path: Path,
) -> None:
    env = sqlite_env(tmp_path / "db.sqlite")
    items = Items(env=env)
    items.add(3)
    seen = Seen(env=env)
    assert seen.partitions == 1
    assert seen.tracking_name("Items") == "Items"
    seen.follow("Items", items.log)
    seen.pull_and_process("Items")
    assert tracking_rows(tmp_path / "db.sqlite", "seen_tracking") == [
        ("Items", 1),
        ("Items", 2),
        ("Items", 3),
    ]
    assert seen.recorded_partitions("Items") == 1
    assert seen.position("Items") == 3


def test_partitions_track_their_own_positions_and_record_how_many_they_are(
    tmp_path: Path,
) -> None:
    env = sqlite_env(tmp_path / "db.sqlite")
    items = Items(env=env)
    seen = Seen3(env=env)
    assert seen.recorded_partitions("Items") is None
    items.add(4, touches=2)
    seen.follow("Items", items.log)
    seen.pull_and_process("Items")
    rows = tracking_rows(tmp_path / "db.sqlite", "seen3_tracking")
    layout = [r for r in rows if r[0] == "Items#partitions"]
    assert layout == [("Items#partitions", encode_layout(0, 3))]
    positions = sorted(r for r in rows if r[0] != "Items#partitions")
    assert [i for _, i in sorted(positions, key=lambda r: r[1])] == list(range(1, 13))
    for name, notification_id in positions:
        notification = items.log.select(notification_id, 1)[0]
        partition = seen.partition_of(notification.originator_id)
        assert name == f"Items#{partition}/3" == seen.tracking_name("Items", partition)
    assert seen.recorded_partitions("Items") == 3
    assert seen.position("Items") == 12


def test_workers_of_some_partitions_each_process_their_own_once_and_in_order(
    tmp_path: Path,
) -> None:
    env = sqlite_env(tmp_path / "db.sqlite")
    items = Items(env=env)
    first, second = Seen3(env=env), Seen3(env=env)
    for follower in (first, second):
        follower.follow("Items", items.log)
    # Of three partitions: 1, 1, 2, 2, 0, 0, then 1, 2, 1.
    ids = items.add(6, touches=3, first=1)
    first.pull_and_process("Items", [0, 2])
    second.pull_and_process("Items", [1])
    items.add(3, touches=1, first=7)
    second.pull_and_process("Items", [1])
    first.pull_and_process("Items", [2, 0, 2])
    assert {p for p, _, _ in first.seen} <= {0, 2}
    assert {p for p, _, _ in second.seen} == {1}
    processed = [(i, v) for _, i, v in first.seen + second.seen]
    assert len(processed) == len(set(processed)) == 6 * 4 + 3 * 2
    for follower in (first, second):
        versions: dict[UUID, list[int]] = {}
        for _, originator_id, version in follower.seen:
            versions.setdefault(originator_id, []).append(version)
        assert all(v == sorted(v) for v in versions.values())
    assert set(ids) <= {i for i, _ in processed}


def test_no_partitions_selected_processes_nothing() -> None:
    items = Items()
    items.add(2)
    seen = Seen3()
    seen.follow("Items", items.log)
    seen.pull_and_process("Items", [])
    assert seen.seen == []


def test_a_partition_that_stays_idle_is_not_read_from_its_old_position_again() -> None:
    items = Items()
    seen = Seen3()
    seen.follow("Items", items.log)
    items.add(30)
    seen.pull_and_process("Items")
    selects: list[int] = []
    select = items.log.select

    def counting(start: int, limit: int) -> Any:
        selects.append(start)
        return select(start, limit)

    items.log.select = counting  # type: ignore[method-assign]
    items.add(1)
    seen.pull_and_process("Items")
    assert selects == [31]
    assert seen.position("Items") == 31


def test_a_stale_partition_skips_what_another_instance_recorded(
    tmp_path: Path,
) -> None:
    env = sqlite_env(tmp_path / "db.sqlite")
    items = Items(env=env)
    first, second = Seen3(env=env), Seen3(env=env)
    first.follow("Items", items.log)
    second.follow("Items", items.log)
    items.add(3)
    first.pull_and_process("Items")
    items.add(6)
    second.pull_and_process("Items")
    items.add(3)
    first.pull_and_process("Items")  # conflicts, then resumes where second was
    processed = [(i, v) for _, i, v in first.seen + second.seen]
    assert len(processed) == len(set(processed)) == 12


def test_taking_over_partitions_reads_their_positions_again(tmp_path: Path) -> None:
    class Counting(Seen3):
        calls = 0

        def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
            self.calls += 1
            super().policy(domain_event, process_event)

    env = sqlite_env(tmp_path / "db.sqlite")
    items = Items(env=env)
    first, second = Counting(env=env), Counting(env=env)
    first.follow("Items", items.log)
    second.follow("Items", items.log)
    items.add(9)
    first.pull_and_process("Items")
    items.add(9)
    second.pull_and_process("Items", [1, 2])  # meanwhile, another worker's
    first.forget_positions("Items", [1, 2])
    first.pull_and_process("Items")
    processed = [(i, v) for _, i, v in first.seen + second.seen]
    assert len(processed) == len(set(processed)) == 18
    # Nothing was processed again only to be thrown away.
    assert first.calls == len(first.seen)


def test_a_conflict_of_the_policys_events_is_raised_in_a_partition() -> None:
    class Conflicting(Seen3):
        def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
            super().policy(domain_event, process_event)
            process_event.save(
                Item.Created(
                    originator_id=UUID(int=1),
                    originator_version=1,
                    timestamp=Item.Created.create_timestamp(),
                    originator_topic="tests:Item",
                )
            )

    items = Items()
    items.add(3)
    conflicting = Conflicting()
    conflicting.follow("Items", items.log)
    with pytest.raises(RecordConflictError):
        conflicting.pull_and_process("Items")
    assert len(conflicting.seen) == 1


def test_an_integrity_error_after_recording_in_a_partition_is_raised() -> None:
    class Failing(Seen3):
        def notify(self, new_events: list[Any]) -> None:
            raise IntegrityError("from a follower of this follower")

    items = Items()
    items.add(2)
    failing = Failing()
    failing.follow("Items", items.log)
    with pytest.raises(IntegrityError, match="from a follower"):
        failing.pull_and_process("Items")


@pytest.mark.parametrize("follower_cls", [Seen, Seen3])
def test_pulling_returns_after_the_notification_in_hand_when_asked_to_stop(
    follower_cls: type[Seen],
) -> None:
    stop = threading.Event()

    class Stopping(follower_cls):  # type: ignore[valid-type,misc]
        def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
            super().policy(domain_event, process_event)
            stop.set()

    items = Items()
    items.add(5)
    stopping = Stopping()
    stopping.follow("Items", items.log)
    stopping.pull_and_process("Items", stop=stop)
    assert len(stopping.seen) == 1
    stop.clear()
    stopping.pull_and_process("Items")
    assert len(stopping.seen) == 5


def test_the_prefixed_setting_wins_over_the_plain_one_and_the_class() -> None:
    assert Seen3(env={"PARTITIONS": "2"}).partitions == 2
    assert Seen3(env={"PARTITIONS": "2", "SEEN3_PARTITIONS": "5"}).partitions == 5
    assert Seen3(env={"SEEN3_PARTITIONS": ""}).partitions == 3
    assert Seen3.partitions == 3


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SEEN_PARTITIONS": "four"}, "SEEN_PARTITIONS='four'"),
        ({"PARTITIONS": "0"}, "PARTITIONS='0'"),
        ({"SEEN_PARTITIONS": str(MAX_PARTITIONS + 1)}, "SEEN_PARTITIONS="),
    ],
)
def test_a_setting_that_is_not_a_number_of_partitions_is_refused(
    env: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigurationError, match="is not a number of partitions") as e:
        Seen(env=env)
    assert named in str(e.value)


def test_a_class_attribute_that_is_not_a_number_of_partitions_is_refused() -> None:
    class Wrong(Seen):
        partitions = 2.0  # type: ignore[assignment]

    with pytest.raises(ConfigurationError, match=r"Wrong.partitions = 2.0 is not"):
        Wrong()


@pytest.mark.parametrize(("before", "after"), [(1, 3), (3, 2), (3, 1), (2, 4)], ids=str)
def test_a_changed_number_of_partitions_is_refused_saying_what_to_do(
    tmp_path: Path, before: int, after: int
) -> None:
    env = sqlite_env(tmp_path / "db.sqlite")
    items = Items(env=env)
    items.add(4)
    first = Seen(env={**env, "PARTITIONS": str(before)})
    first.follow("Items", items.log)
    first.pull_and_process("Items")
    changed = Seen(env={**env, "PARTITIONS": str(after)})
    changed.follow("Items", items.log)
    with pytest.raises(PartitionsChanged) as excinfo:
        changed.pull_and_process("Items")
    message = str(excinfo.value)
    assert f"configured with {after} partition" in message
    assert f"recorded with {before}" in message
    assert f"SEEN_PARTITIONS={before}" in message
    assert f"repartition SYSTEM --app Seen --partitions {after}" in message
    assert changed.seen == []


def test_the_same_number_of_partitions_goes_on_after_a_restart(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path / "db.sqlite")
    items = Items(env=env)
    items.add(4)
    first = Seen3(env=env)
    first.follow("Items", items.log)
    first.pull_and_process("Items")
    items.add(2)
    again = Seen3(env=env)
    again.follow("Items", items.log)
    again.pull_and_process("Items")
    assert len(first.seen) + len(again.seen) == 6


def test_two_followers_recording_the_same_number_at_once_both_go_on() -> None:
    seen = Seen3()
    real = seen._recorded_partitions
    calls: list[str] = []

    def first_seeing_nothing(leader_name: str) -> Any:
        calls.append(leader_name)
        if len(calls) == 1:
            # Meanwhile another worker records the same number.
            seen.recorder.insert_events(
                [], tracking=Tracking("Items#partitions", encode_layout(0, 3))
            )
            return None, None
        return real(leader_name)

    seen._recorded_partitions = first_seeing_nothing  # type: ignore[method-assign]
    seen.check_partitions("Items")
    assert seen.recorded_partitions("Items") == 3


def test_layout_records_keep_their_generation_and_number() -> None:
    assert decode_layout(encode_layout(5, 7)) == (5, 7)
    assert encode_layout(1, 1) > encode_layout(0, MAX_PARTITIONS)


@pytest.mark.parametrize("runner_cls", [SingleThreadedRunner, MultiThreadedRunner])
def test_runners_process_every_partition(runner_cls: type[Any]) -> None:
    runner = runner_cls(System(pipes=[[Items, Seen3]]))
    runner.start()
    try:
        runner.get(Items).add(5, touches=1)
        if isinstance(runner, MultiThreadedRunner):
            runner.wait(timeout=10)
        seen = runner.get(Seen3)
        assert len(seen.seen) == 10
        assert seen.position("Items") == 10
    finally:
        runner.stop()
