"""The follower keeps its position in memory between pulls, and stays exactly-once
when another instance of it records on the same database."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid4, uuid5

import pytest

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent
from eventsourcing.persistence import (
    IntegrityError,
    RecordConflictError,
    Recording,
    Tracking,
)
from eventsourcing.system import Follower, ProcessEvent


class Item(Aggregate):
    @classmethod
    def create(cls, name: str = "") -> Item:
        item_id = uuid5(NAMESPACE_URL, f"/items/{name}") if name else uuid4()
        item: Item = cls._create(event_class=cls.Created, id=item_id)
        return item

    class Created(AggregateCreated["Item"]):
        pass

    def touch(self) -> None:
        self.trigger_event(self.Touched)

    class Touched(AggregateEvent["Item"]):
        pass


class Items(Application):
    def add(self, n: int) -> None:
        for _ in range(n):
            self.save(Item.create())


class Tracker(Follower):
    """Records each processed notification's ID once it is recorded."""

    def __init__(self, env: Any = None) -> None:
        super().__init__(env)
        self.recorded: list[int] = []

    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        process_event.save(Item.create())

    def record(self, process_event: ProcessEvent) -> Sequence[Recording]:
        recordings = super().record(process_event)
        assert process_event.tracking is not None
        self.recorded.append(process_event.tracking.notification_id)
        return recordings


def sqlite_env(path: Path) -> dict[str, str]:
    return {"INFRASTRUCTURE_FACTORY": "sqlite", "SQLITE_DBNAME": str(path)}


def count_queries(follower: Follower) -> list[str]:
    calls: list[str] = []
    max_tracking_id = follower.recorder.max_tracking_id

    def counting(name: str) -> int:
        calls.append(name)
        return max_tracking_id(name)

    setattr(follower.recorder, "max_tracking_id", counting)  # noqa: B010
    return calls


def test_position_is_read_from_the_recorder_once_after_follow() -> None:
    items = Items()
    tracker = Tracker()
    tracker.follow("Items", items.log)
    queries = count_queries(tracker)
    for _ in range(3):
        items.add(2)
        tracker.pull_and_process("Items")
    # Once: the record of the number of partitions (none), then the position.
    once = ["Items#partitions", "Items"]
    assert queries == once
    assert tracker.recorded == [1, 2, 3, 4, 5, 6]
    # Following again reads the position again.
    tracker.follow("Items", items.log)
    items.add(1)
    tracker.pull_and_process("Items")
    assert queries == once + once
    assert tracker.recorded == [1, 2, 3, 4, 5, 6, 7]


def test_pulls_in_sections_of_pull_section_size() -> None:
    class Small(Tracker):
        pull_section_size = 3

    items = Items()
    items.add(7)
    small = Small()
    small.follow("Items", items.log)
    assert small.readers["Items"][0].section_size == 3
    small.pull_and_process("Items")
    assert small.recorded == [1, 2, 3, 4, 5, 6, 7]


def test_recording_a_later_position_directly_moves_the_kept_position() -> None:
    items = Items()
    items.add(4)
    tracker = Tracker()
    tracker.follow("Items", items.log)
    tracker.pull_and_process("Items")
    tracker.record(ProcessEvent(Tracking("Items", 6)))
    tracker.record(ProcessEvent(Tracking("Items", 5)))
    items.add(3)
    tracker.pull_and_process("Items")
    assert tracker.recorded == [1, 2, 3, 4, 6, 5, 7]


def test_a_stale_position_skips_what_another_instance_recorded(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path / "db.sqlite")
    items = Items(env=env)
    first, second = Tracker(env=env), Tracker(env=env)
    first.follow("Items", items.log)
    second.follow("Items", items.log)
    items.add(2)
    first.pull_and_process("Items")
    items.add(3)
    second.pull_and_process("Items")  # records 3, 4 and 5
    items.add(1)
    queries = count_queries(first)
    first.pull_and_process("Items")  # conflicts at 3, resumes after 5

    assert queries == ["Items"]
    assert first.recorded == [1, 2, 6]
    assert second.recorded == [3, 4, 5]
    # The conflicting results were discarded: one new item per notification.
    assert first.recorder.max_notification_id() == 6


def test_a_conflict_of_the_policys_events_is_raised_and_position_reread() -> None:
    class Conflicting(Tracker):
        def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
            process_event.save(Item.create("the one"))

    items = Items()
    items.add(2)
    conflicting = Conflicting()
    conflicting.follow("Items", items.log)
    with pytest.raises(RecordConflictError):
        conflicting.pull_and_process("Items")
    assert conflicting.recorded == [1]
    queries = count_queries(conflicting)
    with pytest.raises(RecordConflictError):
        conflicting.pull_and_process("Items")
    assert queries == ["Items", "Items"]  # on the pull, and on the conflict


def test_an_integrity_error_after_recording_is_raised() -> None:
    class Failing(Tracker):
        def notify(self, new_events: list[Any]) -> None:
            raise IntegrityError("from a follower of this follower")

    items = Items()
    items.add(2)
    failing = Failing()
    failing.follow("Items", items.log)
    with pytest.raises(IntegrityError, match="from a follower"):
        failing.pull_and_process("Items")
    # Recorded, though the error came after.
    assert failing.recorder.max_tracking_id("Items") == 1
    assert failing.recorded == []


def test_instances_racing_on_one_database_process_each_notification_once(
    tmp_path: Path,
) -> None:
    env = sqlite_env(tmp_path / "db.sqlite")
    items = Items(env=env)
    followers = [Tracker(env=env), Tracker(env=env)]
    for follower in followers:
        follower.follow("Items", items.log)
    total = 200
    done = threading.Event()
    errors: list[BaseException] = []

    def run(follower: Tracker) -> None:
        try:
            while not done.is_set():
                follower.pull_and_process("Items")
                if follower.recorder.max_tracking_id("Items") >= total:
                    done.set()
        except BaseException as error:  # pragma: no cover (reported below)
            errors.append(error)
            done.set()

    threads = [threading.Thread(target=run, args=(f,)) for f in followers]
    for thread in threads:
        thread.start()
    for _ in range(total // 10):
        items.add(10)
    for thread in threads:
        thread.join(60)
    assert not errors
    recorded = followers[0].recorded + followers[1].recorded
    assert sorted(recorded) == list(range(1, total + 1))
    # One new item per notification: no conflicting results were kept.
    assert followers[0].recorder.max_notification_id() == total
    for follower in followers:
        follower.factory.close()
    items.factory.close()
