"""Process events, leaders, followers and the notification log reader, used
directly without a runner."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from eventsourcing.application import (
    Application,
    LocalNotificationLog,
    NotificationLog,
    Section,
)
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent
from eventsourcing.persistence import Notification, Tracking
from eventsourcing.system import (
    Follower,
    Leader,
    NotificationLogReader,
    ProcessApplication,
    ProcessEvent,
    Promptable,
)

T0 = datetime(2021, 1, 1, tzinfo=UTC)


@dataclass
class FakeEvent:
    originator_id: UUID
    timestamp: datetime
    label: str


@dataclass
class FakeAggregate:
    pending: list[FakeEvent] = field(default_factory=list)
    id: UUID = field(default_factory=uuid4)

    def trigger(self, label: str, seconds: int) -> None:
        self.pending.append(FakeEvent(self.id, T0 + timedelta(seconds=seconds), label))

    def collect_events(self) -> list[FakeEvent]:
        events, self.pending = self.pending, []
        return events


def labels(process_event: ProcessEvent) -> list[str]:
    return [event.label for event in process_event.events]


def test_process_event_keeps_tracking_and_starts_without_events() -> None:
    tracking = Tracking(application_name="Leader", notification_id=3)
    process_event = ProcessEvent(tracking)

    assert process_event.tracking is tracking
    assert process_event.events == []
    assert ProcessEvent().tracking is None


def test_process_event_orders_events_as_triggered_across_aggregates() -> None:
    a, b = FakeAggregate(), FakeAggregate()
    a.trigger("a1", 1)
    b.trigger("b1", 2)
    a.trigger("a2", 3)
    b.trigger("b2", 4)
    process_event = ProcessEvent()

    process_event.save(a, b)

    assert labels(process_event) == ["a1", "b1", "a2", "b2"]
    assert a.pending == []
    assert b.pending == []


def test_process_event_merges_later_saves_in_triggered_order() -> None:
    a, b = FakeAggregate(), FakeAggregate()
    a.trigger("a1", 1)
    b.trigger("b1", 2)
    a.trigger("a2", 3)
    process_event = ProcessEvent()

    process_event.save(a)
    process_event.save(b)
    a.trigger("a3", 5)
    process_event.save(a)

    assert labels(process_event) == ["a1", "b1", "a2", "a3"]


def test_process_event_never_reorders_one_aggregates_events() -> None:
    # The clock stepped backwards between a1 and a2.
    a, b = FakeAggregate(), FakeAggregate()
    a.trigger("a1", 10)
    a.trigger("a2", 1)
    b.trigger("b1", 5)
    process_event = ProcessEvent()

    process_event.save(a, b)

    assert labels(process_event) == ["b1", "a1", "a2"]


def test_process_event_breaks_timestamp_ties_by_first_saved_aggregate() -> None:
    a, b = FakeAggregate(), FakeAggregate()
    b.trigger("b1", 1)
    a.trigger("a1", 1)
    process_event = ProcessEvent()

    process_event.save(a, b)

    assert labels(process_event) == ["a1", "b1"]


# A small domain model for the leader and follower tests.


class Note(Aggregate):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = ""

    @classmethod
    def create(cls, text: str) -> Note:
        note: Note = cls._create(event_class=cls.Created, id=uuid4())
        note.write(text)
        return note

    class Created(AggregateCreated["Note"]):
        pass

    def write(self, text: str) -> None:
        self.trigger_event(self.Written, text=text)

    class Written(AggregateEvent["Note"]):
        text: str

        def apply(self, note: Note) -> None:
            note.text = self.text


class Notes(Leader):
    def add(self, text: str) -> UUID:
        note = Note.create(text)
        self.save(note)
        return note.id


class Copier(ProcessApplication):
    """Copies each written note, and remembers every event it was given."""

    def __init__(self, env: Any = None) -> None:
        super().__init__(env)
        self.seen: list[Any] = []

    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        self.seen.append(domain_event)
        if isinstance(domain_event, Note.Written):
            process_event.save(Note.create(domain_event.text.upper()))


class Recorder(Promptable):
    def __init__(self) -> None:
        self.prompts: list[str] = []

    def receive_prompt(self, leader_name: str) -> None:
        self.prompts.append(leader_name)


def test_leader_prompts_followers_after_saving_new_events() -> None:
    notes = Notes()
    first, second = Recorder(), Recorder()
    notes.lead(first)
    notes.lead(second)

    notes.add("hello")
    notes.save()  # Nothing new: no prompt.

    assert first.prompts == ["Notes"]
    assert second.prompts == ["Notes"]
    assert notes.followers == [first, second]


def test_follower_uses_a_process_recorder_and_can_be_prompted() -> None:
    notes = Notes()
    copier = Copier()
    copier.follow("Notes", notes.log)
    notes.lead(copier)

    notes.add("hello")

    assert copier.recorder.max_tracking_id("Notes") == 2
    assert [type(e) for e in copier.seen] == [Note.Created, Note.Written]
    copies = copier.log.select(1, 10)
    assert len(copies) == 2
    copy = copier.repository.get(copies[0].originator_id)
    assert copy.text == "HELLO"


def test_pull_and_process_resumes_after_the_last_tracked_notification() -> None:
    notes = Notes()
    notes.add("one")
    copier = Copier()
    copier.follow("Notes", notes.log)

    copier.pull_and_process("Notes")
    notes.add("two")
    copier.pull_and_process("Notes")
    copier.pull_and_process("Notes")

    assert len(copier.seen) == 4
    assert copier.recorder.max_tracking_id("Notes") == 4
    assert copier.recorder.max_notification_id() == 4


def test_tracking_is_recorded_when_the_policy_saves_nothing() -> None:
    class Ignorer(Follower):
        def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
            pass

    notes = Notes()
    notes.add("one")
    ignorer = Ignorer()
    ignorer.follow("Notes", notes.log)

    ignorer.pull_and_process("Notes")

    assert ignorer.recorder.max_tracking_id("Notes") == 2
    assert ignorer.recorder.max_notification_id() == 0


def test_a_failing_policy_records_nothing_for_that_notification() -> None:
    class Fragile(Copier):
        fail = True

        def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
            if self.fail and isinstance(domain_event, Note.Written):
                raise RuntimeError("policy failed")
            super().policy(domain_event, process_event)

    notes = Notes()
    notes.add("one")
    fragile = Fragile()
    fragile.follow("Notes", notes.log)

    with pytest.raises(RuntimeError, match="policy failed"):
        fragile.pull_and_process("Notes")
    assert fragile.recorder.max_tracking_id("Notes") == 1

    fragile.fail = False
    fragile.pull_and_process("Notes")
    assert fragile.recorder.max_tracking_id("Notes") == 2
    assert fragile.recorder.max_notification_id() == 2


def test_pulling_from_an_unfollowed_application_is_a_clear_error() -> None:
    copier = Copier()
    with pytest.raises(ValueError, match=r"does not follow 'Notes'.*follow\("):
        copier.pull_and_process("Notes")


def test_follower_policy_is_abstract() -> None:
    with pytest.raises(TypeError, match="policy"):
        Follower()  # type: ignore[abstract]


def test_recording_a_process_event_without_tracking_just_saves_events() -> None:
    copier = Copier()
    process_event = ProcessEvent()
    process_event.save(Note.create("loose"))

    copier.record(process_event)

    assert copier.recorder.max_notification_id() == 2
    assert copier.recorder.max_tracking_id("Notes") == 0


class Ping(ProcessApplication):
    """Replies to each Pong note with a Ping note until the count runs out."""

    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        if isinstance(domain_event, Note.Written):
            count = int(domain_event.text.split()[1])
            if count > 0:
                process_event.save(Note.create(f"{self.name} {count - 1}"))


class Pong(Ping):
    pass


def test_followers_prompting_each_other_directly_process_everything() -> None:
    ping, pong = Ping(), Pong()
    ping.follow("Pong", pong.log)
    pong.follow("Ping", ping.log)
    ping.lead(pong)
    pong.lead(ping)

    start = ProcessEvent()
    start.save(Note.create("Ping 9"))
    ping.record(start)

    # Ping wrote 9, 7, 5, 3, 1 and Pong wrote 8, 6, 4, 2, 0.
    assert ping.recorder.max_notification_id() == 10
    assert pong.recorder.max_notification_id() == 10
    assert pong.recorder.max_tracking_id("Ping") == 10
    assert ping.recorder.max_tracking_id("Pong") == 10


# The notification log reader.


def make_log(count: int) -> LocalNotificationLog:
    app = Notes()
    for i in range(count):
        note = Note.create(str(i))
        app.save(note)
    log = app.log
    assert log.recorder.max_notification_id() == 2 * count
    return log


@pytest.mark.parametrize("method", ["read", "select"])
@pytest.mark.parametrize(("count", "section_size"), [(0, 3), (7, 3), (6, 3), (7, 10)])
def test_reader_yields_every_notification_from_start(
    method: str, count: int, section_size: int
) -> None:
    log = make_log((count + 1) // 2)
    total = log.recorder.max_notification_id()
    reader = NotificationLogReader(log, section_size=section_size)

    for start in sorted({1, 2, max(total, 1), total + 1}):
        ids = [n.id for n in getattr(reader, method)(start=start)]
        assert ids == list(range(start, total + 1))


def test_reader_skips_items_before_start_in_a_section() -> None:
    notification = Notification(
        originator_id=uuid4(), originator_version=1, topic="t", state=b"", id=1
    )

    class OverlappingLog(NotificationLog):
        def __getitem__(self, section_id: str) -> Section:
            items = [notification, Notification(**{**vars(notification), "id": 2})]
            return Section(id="1,2", items=items, next_id=None)

        def select(self, start: int, limit: int) -> list[Notification]:
            raise NotImplementedError

    reader = NotificationLogReader(OverlappingLog())

    assert [n.id for n in reader.read(start=2)] == [2]


def test_reader_section_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        NotificationLogReader(make_log(0), section_size=0)


def test_plain_application_is_not_a_leader() -> None:
    assert not issubclass(Application, Leader)
    assert issubclass(ProcessApplication, Leader)
    assert issubclass(ProcessApplication, Follower)


def test_process_applications_take_automatic_snapshots() -> None:
    class SnapshottingCopier(Copier):
        snapshotting_intervals = {Note: 2}

    notes = Notes()
    notes.add("one")
    copier = SnapshottingCopier()
    copier.follow("Notes", notes.log)

    copier.pull_and_process("Notes")

    assert copier.snapshots is not None
    copy_id = copier.log.select(1, 1)[0].originator_id
    snapshots = copier.snapshots.get(copy_id)
    assert [snapshot.originator_version for snapshot in snapshots] == [2]


def test_process_event_remembers_each_saved_aggregate_once() -> None:
    a, b = FakeAggregate(), FakeAggregate()
    process_event = ProcessEvent()

    process_event.save(a, b)
    process_event.save(a)

    assert process_event.aggregates == [a, b]
