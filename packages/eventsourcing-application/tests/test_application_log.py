"""Tests of the notification log: section IDs, section sizes, and gaps in the
sequence of notification IDs."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID, uuid4

import pytest

from eventsourcing.application import (
    DEFAULT_SECTION_SIZE,
    LocalNotificationLog,
    NotificationLog,
    Section,
    format_section_id,
    parse_section_id,
)
from eventsourcing.persistence import (
    ApplicationRecorder,
    Notification,
    StoredEvent,
    Tracking,
)


class NotificationsRecorder(ApplicationRecorder):
    """An application recorder holding notifications with the given IDs, so a test
    can have gaps in the sequence (as rolled-back transactions leave in databases)."""

    def __init__(self, ids: list[int]) -> None:
        originator_id = uuid4()
        self.notifications = [
            Notification(
                id=notification_id,
                originator_id=originator_id,
                originator_version=i,
                topic="tests:Event",
                state=b"{}",
            )
            for i, notification_id in enumerate(ids, start=1)
        ]

    def _insert_events(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> Sequence[int] | None:
        raise NotImplementedError("these tests only read notifications")

    def select_events(
        self,
        originator_id: UUID,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        raise NotImplementedError("these tests only read notifications")

    def select_notifications(
        self, start: int, limit: int, *, topics: Sequence[str] = ()
    ) -> list[Notification]:
        return [
            n
            for n in self.notifications
            if n.id >= start and (not topics or n.topic in topics)
        ][:limit]

    def max_notification_id(self) -> int:
        return self.notifications[-1].id if self.notifications else 0


def ids(section: Section) -> list[int]:
    return [item.id for item in section.items]


def test_local_notification_log_is_a_notification_log() -> None:
    log = LocalNotificationLog(NotificationsRecorder([]))
    assert isinstance(log, NotificationLog)
    assert log.section_size == DEFAULT_SECTION_SIZE == 10
    assert LocalNotificationLog.DEFAULT_SECTION_SIZE == 10


def test_empty_log_gives_empty_section() -> None:
    log = LocalNotificationLog(NotificationsRecorder([]))
    section = log["1,10"]
    assert section == Section(id=None, items=[], next_id=None)


def test_full_section_links_to_the_next_section() -> None:
    log = LocalNotificationLog(NotificationsRecorder(list(range(1, 26))))

    section = log["1,10"]
    assert section.id == "1,10"
    assert section.section_id == "1,10"
    assert ids(section) == list(range(1, 11))
    assert section.next_id == "11,20"

    section = log[section.next_id]
    assert section.id == "11,20"
    assert section.next_id == "21,30"

    section = log[section.next_id]
    assert section.id == "21,25"
    assert ids(section) == list(range(21, 26))
    assert section.next_id is None

    section = log["26,35"]
    assert section.id is None
    assert section.items == []
    assert section.next_id is None


def test_section_is_never_larger_than_requested_nor_than_section_size() -> None:
    log = LocalNotificationLog(NotificationsRecorder(list(range(1, 101))), 5)

    section = log["1,3"]
    assert section.id == "1,3"
    assert section.next_id == "4,6"

    section = log["1,100"]
    assert section.id == "1,5"
    assert section.next_id == "6,10"

    section = log["7,7"]
    assert section.id == "7,7"
    assert section.next_id == "8,8"


def test_section_ids_describe_the_notifications_across_gaps() -> None:
    log = LocalNotificationLog(NotificationsRecorder([1, 2, 5, 6, 9, 20, 21]), 3)

    section = log["1,3"]
    assert ids(section) == [1, 2, 5]
    assert section.id == "1,5"
    assert section.next_id == "6,8"

    section = log[section.next_id]
    assert ids(section) == [6, 9, 20]
    assert section.id == "6,20"
    assert section.next_id == "21,23"

    section = log[section.next_id]
    assert ids(section) == [21]
    assert section.id == "21,21"
    assert section.next_id is None

    # Following the links visits each notification once.
    seen: list[int] = []
    section_id: str | None = "1,3"
    while section_id is not None:
        section = log[section_id]
        seen += ids(section)
        section_id = section.next_id
    assert seen == [1, 2, 5, 6, 9, 20, 21]


def test_first_id_below_one_starts_at_one() -> None:
    log = LocalNotificationLog(NotificationsRecorder([1, 2, 3]))
    assert log["0,9"].id == "1,3"
    assert log["-5,0"] == Section(id=None, items=[], next_id=None)


@pytest.mark.parametrize("section_id", ["", "1", "1,2,3", "a,b", "1,", ",10", "1;10"])
def test_malformed_section_id_raises_value_error(section_id: str) -> None:
    log = LocalNotificationLog(NotificationsRecorder([1]))
    with pytest.raises(ValueError, match=r"Invalid section ID .*two integers"):
        log[section_id]


def test_reversed_section_id_raises_value_error() -> None:
    log = LocalNotificationLog(NotificationsRecorder([1]))
    with pytest.raises(ValueError, match="lower than the first"):
        log["10,1"]


def test_non_string_section_id_raises_value_error() -> None:
    log = LocalNotificationLog(NotificationsRecorder([1]))
    with pytest.raises(ValueError, match="Invalid section ID 1"):
        log[1]  # type: ignore[index]


def test_section_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="section size 0"):
        LocalNotificationLog(NotificationsRecorder([]), section_size=0)


def test_select() -> None:
    log = LocalNotificationLog(NotificationsRecorder([1, 2, 5, 6, 9]), 2)
    assert [n.id for n in log.select(start=2, limit=3)] == [2, 5, 6]
    assert [n.id for n in log.select(start=7, limit=10)] == [9]
    assert log.select(start=10, limit=10) == []


def test_section_id_helpers() -> None:
    assert format_section_id(3, 12) == "3,12"
    assert parse_section_id("3,12") == (3, 12)
    assert parse_section_id(" 3, 12 ") == (3, 12)
