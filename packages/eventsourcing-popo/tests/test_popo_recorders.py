"""Behaviour of the popo recorders beyond the shared contract."""

from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.popo import POPOApplicationRecorder, POPOProcessRecorder


def event(originator_id: UUID, version: int) -> StoredEvent:
    return StoredEvent(originator_id, version, "tests:Event", b"{}")


def test_notification_ids_start_at_one_without_gaps() -> None:
    recorder = POPOApplicationRecorder()
    originator_id = uuid4()
    recorder.insert_events([event(originator_id, 1), event(originator_id, 2)])
    recorder.insert_events([event(originator_id, 3)])
    ids = [n.id for n in recorder.select_notifications(1, 10)]
    assert ids == [1, 2, 3]
    assert [n.id for n in recorder.select_notifications(2, 1)] == [2]


def test_select_notifications_before_the_first_id_starts_at_the_first() -> None:
    recorder = POPOApplicationRecorder()
    recorder.insert_events([event(uuid4(), 1)])
    assert [n.id for n in recorder.select_notifications(0, 10)] == [1]
    assert recorder.select_notifications(1, 0) == []
    assert recorder.select_notifications(1, -1) == []


def test_max_tracking_id_is_the_highest_even_when_recorded_out_of_order() -> None:
    recorder = POPOProcessRecorder()
    recorder.insert_events([], tracking=Tracking("upstream", 5))
    recorder.insert_events([], tracking=Tracking("upstream", 3))
    assert recorder.max_tracking_id("upstream") == 5
