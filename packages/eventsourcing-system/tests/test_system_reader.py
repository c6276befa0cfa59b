"""The notification log reader refuses notification IDs that would move a follower
past notifications it never processed, before yielding any of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest

from eventsourcing.application import Application, NotificationLog, Section
from eventsourcing.domain import Aggregate, AggregateCreated
from eventsourcing.persistence import Notification
from eventsourcing.system import (
    Follower,
    NotificationLogError,
    NotificationLogReader,
    ProcessEvent,
)

FORGED = 10**15


def notification(notification_id: int) -> Notification:
    return Notification(
        originator_id=uuid4(),
        originator_version=1,
        topic="m:T",
        state=b"{}",
        id=notification_id,
    )


class CannedLog(NotificationLog):
    """Answers every selection with the same IDs, and sections from a list."""

    def __init__(self, ids: list[int], sections: list[Section] | None = None) -> None:
        self.ids = ids
        self.sections = sections or []

    def __repr__(self) -> str:
        return "CannedLog()"

    def __getitem__(self, section_id: str) -> Section:
        return self.sections.pop(0)

    def select(self, start: int, limit: int) -> list[Notification]:
        return [notification(i) for i in self.ids]


def section(ids: list[int], next_id: str | None = None) -> Section:
    return Section(id="x", items=[notification(i) for i in ids], next_id=next_id)


def test_notification_log_error_is_a_value_error() -> None:
    assert issubclass(NotificationLogError, ValueError)


def test_select_refuses_a_forged_id_before_yielding_any_notification() -> None:
    reader = NotificationLogReader(CannedLog([6, FORGED, 7]))
    notifications = reader.select(start=6)

    with pytest.raises(NotificationLogError) as info:
        next(notifications)

    message = str(info.value)
    assert "Notification log CannedLog() returned" in message
    assert "IDs [6, 1000000000000000, 7] for start 6" in message
    assert "ID 7 comes after ID 1000000000000000, but IDs must increase" in message


@pytest.mark.parametrize(
    ("ids", "problem"),
    [
        ([6, 6], "ID 6 comes after ID 6"),
        ([4, 5, 6], "ID 4 is lower than 6, the start asked for"),
        ([6, 2**63], "ID 9223372036854775808 is larger than any notification ID"),
    ],
)
def test_select_refuses_repeated_early_and_impossible_ids(
    ids: list[int], problem: str
) -> None:
    reader = NotificationLogReader(CannedLog(ids))

    with pytest.raises(NotificationLogError, match=problem):
        next(reader.select(start=6))


def test_select_accepts_the_largest_possible_id() -> None:
    reader = NotificationLogReader(CannedLog([6, 2**63 - 1]))

    assert [n.id for n in reader.select(start=6)] == [6, 2**63 - 1]


def test_long_selections_are_shortened_in_the_error() -> None:
    ids = [*range(1, 20), 5]
    reader = NotificationLogReader(CannedLog(ids), section_size=20)

    with pytest.raises(NotificationLogError) as info:
        next(reader.select(start=1))

    assert "IDs [1, 2, 3, 4, 5, 6, ..., 18, 19, 5] for start 1" in str(info.value)


def test_read_refuses_a_section_whose_ids_do_not_increase() -> None:
    # Even the notifications before the start must be in order.
    reader = NotificationLogReader(CannedLog([], [section([1, FORGED, 7])]))

    with pytest.raises(NotificationLogError) as info:
        next(reader.read(start=6))

    assert "for section '6,15' (start 6): ID 7 comes after ID 1000000" in str(
        info.value
    )


def test_read_refuses_a_next_section_that_goes_back() -> None:
    log = CannedLog([], [section([1, 2, 3], next_id="4,6"), section([3, 4])])
    notifications = NotificationLogReader(log, section_size=3).read(start=1)

    assert [next(notifications).id for _ in range(3)] == [1, 2, 3]
    with pytest.raises(NotificationLogError) as info:
        next(notifications)

    message = str(info.value)
    assert "for section '4,6' (start 1)" in message
    assert "ID 3 is lower than 4, the ID after 3, read last" in message


def test_read_skips_sections_before_the_start_until_it_reads_one() -> None:
    # Sections that begin before the request are allowed, as long as nothing
    # has been read yet.
    log = CannedLog(
        [],
        [
            section([1, 2], next_id="3,4"),
            section([2, 3, 4, 5], next_id="6,7"),
            section([6, 2**63 - 1]),
        ],
    )

    ids = [n.id for n in NotificationLogReader(log).read(start=4)]

    assert ids == [4, 5, 6, 2**63 - 1]


def test_read_refuses_impossible_ids() -> None:
    reader = NotificationLogReader(CannedLog([], [section([6, 2**63])]))

    with pytest.raises(NotificationLogError, match="larger than any notification"):
        next(reader.read(start=6))


# A follower is never moved past a notification it did not process.


class Note(Aggregate):
    @classmethod
    def create(cls) -> Note:
        note: Note = cls._create(event_class=cls.Created, id=uuid4())
        return note

    class Created(AggregateCreated["Note"]):
        pass


class Notes(Application):
    def add(self, count: int) -> None:
        for _ in range(count):
            self.save(Note.create())


class ForgingLog(NotificationLog):
    """A leader's genuine log, into which ``forge`` may insert a notification."""

    def __init__(self, log: NotificationLog) -> None:
        self.log = log
        self.forge: Callable[[list[Notification]], list[Notification]] | None = None

    def __getitem__(self, section_id: str) -> Section:
        raise NotImplementedError

    def select(self, start: int, limit: int) -> list[Notification]:
        notifications = self.log.select(start, limit)
        return notifications if self.forge is None else self.forge(notifications)


class Copier(Follower):
    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        process_event.save(Note.create())


def test_follower_refuses_a_forged_id_and_keeps_its_position() -> None:
    notes = Notes()
    notes.add(5)
    log = ForgingLog(notes.log)
    copier = Copier()
    copier.follow("Notes", log)
    copier.pull_and_process("Notes")
    assert copier.recorder.max_tracking_id("Notes") == 5
    notes.add(2)

    def forge(genuine: list[Notification]) -> list[Notification]:
        forged = Notification(**{**vars(genuine[0]), "id": FORGED})
        return [genuine[0], forged, *genuine[1:]]

    log.forge = forge
    with pytest.raises(NotificationLogError, match="for start 6"):
        copier.pull_and_process("Notes")

    assert copier.recorder.max_tracking_id("Notes") == 5
    assert copier.recorder.max_notification_id() == 5

    # Once the log is genuine again, nothing was skipped.
    log.forge = None
    copier.pull_and_process("Notes")
    assert copier.recorder.max_tracking_id("Notes") == 7
    assert copier.recorder.max_notification_id() == 7
