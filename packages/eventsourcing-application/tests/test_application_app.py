"""Tests of the application object: configuration, saving, snapshotting and the
repository, beyond the documented examples."""

from __future__ import annotations

import os
from typing import Any
from uuid import UUID, uuid4

import pytest

from eventsourcing.application import (
    AggregateNotFound,
    Application,
    LocalNotificationLog,
    Repository,
)
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent, Snapshot
from eventsourcing.persistence import (
    ApplicationRecorder,
    EventStore,
    InfrastructureFactory,
    IntegrityError,
    JSONTranscoder,
    Mapper,
    RecordConflictError,
    Tracking,
)

# Each test runs on each installed backend, chosen through os.environ.
pytestmark = pytest.mark.usefixtures("backend_environ")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.endswith("IS_SNAPSHOTTING_ENABLED"):
            monkeypatch.delenv(key)


class Counter(Aggregate):
    def __init__(self) -> None:
        self.count = 0

    @classmethod
    def create(cls) -> Counter:
        return cls._create(cls.Created, id=uuid4())

    class Created(AggregateCreated["Counter"]):
        pass

    def increment(self, by: int = 1) -> None:
        self.trigger_event(self.Incremented, by=by)

    class Incremented(AggregateEvent["Counter"]):
        by: int

        def apply(self, counter: Counter) -> None:
            counter.count += self.by


class Counters(Application):
    def create_counter(self) -> UUID:
        counter = Counter.create()
        self.save(counter)
        return counter.id

    def increment(self, counter_id: UUID, times: int = 1) -> None:
        counter = self.repository.get(counter_id)
        for _ in range(times):
            counter.increment()
        self.save(counter)


class NamedCounters(Counters):
    name = "tally"


def test_name_defaults_to_class_name_and_can_be_set() -> None:
    assert Application.name == "Application"
    assert Counters.name == "Counters"
    assert NamedCounters.name == "tally"
    assert Counters().factory.application_name == "Counters"
    assert NamedCounters().factory.application_name == "tally"


def test_application_attributes() -> None:
    app = Counters()
    assert isinstance(app.factory, InfrastructureFactory)
    assert isinstance(app.mapper, Mapper)
    assert isinstance(app.mapper.transcoder, JSONTranscoder)
    assert isinstance(app.recorder, ApplicationRecorder)
    assert isinstance(app.events, EventStore)
    assert app.events.recorder is app.recorder
    assert app.snapshots is None
    assert isinstance(app.repository, Repository)
    assert app.repository.event_store is app.events
    assert isinstance(app.log, LocalNotificationLog)
    assert app.log.recorder is app.recorder


def test_env_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    class Configured(Counters):
        env = {"IS_SNAPSHOTTING_ENABLED": "y", "SOMETHING": "class"}

    app = Configured()
    assert app.env["SOMETHING"] == "class"
    assert app.snapshots is not None

    monkeypatch.setenv("SOMETHING", "os")
    monkeypatch.setenv("IS_SNAPSHOTTING_ENABLED", "n")
    app = Configured()
    assert app.env["SOMETHING"] == "os"
    assert app.snapshots is None

    app = Configured(env={"SOMETHING": "arg", "IS_SNAPSHOTTING_ENABLED": "y"})
    assert app.env["SOMETHING"] == "arg"
    assert app.snapshots is not None
    assert app.factory.env is app.env

    # The class attribute is not changed by constructing applications.
    assert Configured.env == {"IS_SNAPSHOTTING_ENABLED": "y", "SOMETHING": "class"}


def test_env_prefixed_with_application_name_wins() -> None:
    app = Counters(
        env={"IS_SNAPSHOTTING_ENABLED": "n", "COUNTERS_IS_SNAPSHOTTING_ENABLED": "y"}
    )
    assert app.snapshots is not None
    app = NamedCounters(
        env={"IS_SNAPSHOTTING_ENABLED": "y", "TALLY_IS_SNAPSHOTTING_ENABLED": "n"}
    )
    assert app.snapshots is None


def test_save_puts_pending_events_and_notifies() -> None:
    notified: list[list[Any]] = []

    class NotifyingCounters(Counters):
        def notify(self, new_events: list[Any]) -> None:
            notified.append(new_events)

    app = NotifyingCounters()
    counter_id = app.create_counter()
    app.increment(counter_id, times=3)
    assert [len(events) for events in notified] == [1, 3]
    assert [e.originator_version for e in notified[1]] == [2, 3, 4]
    assert app.repository.get(counter_id).count == 3

    # Saving an aggregate without pending events stores nothing.
    app.save(app.repository.get(counter_id))
    assert notified[-1] == []
    assert app.recorder.max_notification_id() == 4

    # Saving nothing is fine too.
    app.save()
    assert app.recorder.max_notification_id() == 4


def test_save_of_several_aggregates_is_atomic() -> None:
    app = Counters()
    counter_id = app.create_counter()
    stale = app.repository.get(counter_id)
    app.increment(counter_id)

    new_counter = Counter.create()
    stale.increment()
    with pytest.raises(IntegrityError) as exc_info:
        app.save(new_counter, stale)
    assert isinstance(exc_info.value, RecordConflictError)

    # Nothing of the failed call was stored.
    assert new_counter.id not in app.repository
    assert app.repository.get(counter_id).version == 2
    assert app.recorder.max_notification_id() == 2


def test_save_passes_tracking_to_the_event_store_and_refuses_other_keywords() -> None:
    calls: list[Tracking | None] = []

    class RecordingEventStore(EventStore):
        def put(self, events: Any, *, tracking: Tracking | None = None) -> Any:
            calls.append(tracking)
            return super().put(events)

    class KwargsCounters(Counters):
        def construct_event_store(self) -> EventStore:
            return RecordingEventStore(mapper=self.mapper, recorder=self.recorder)

    app = KwargsCounters()
    tracking = Tracking("Upstream", 1)
    app.save(Counter.create(), tracking=tracking)
    assert calls == [tracking]
    counter = Counter.create()
    with pytest.raises(TypeError, match="'trackign'"):
        app.save(counter, trackign=tracking)  # type: ignore[call-arg]  # the point
    assert len(counter.pending_events) == 1
    assert calls == [tracking]


def test_repository_get_and_contains() -> None:
    app = Counters()
    counter_id = app.create_counter()
    app.increment(counter_id, times=2)

    assert counter_id in app.repository
    assert uuid4() not in app.repository
    assert "not-a-uuid" not in app.repository

    assert app.repository.get(counter_id).version == 3
    assert app.repository.get(counter_id, version=2).count == 1
    assert app.repository.get(counter_id, version=99).version == 3

    unknown_id = uuid4()
    with pytest.raises(AggregateNotFound, match=f"Aggregate {unknown_id} not found: "):
        app.repository.get(unknown_id)
    with pytest.raises(AggregateNotFound, match=r"Check the ID.*same application name"):
        app.repository.get(unknown_id)
    with pytest.raises(AggregateNotFound, match="not found at version 0"):
        app.repository.get(counter_id, version=0)


def test_repository_uses_latest_snapshot_at_or_below_version() -> None:
    app = Counters(env={"IS_SNAPSHOTTING_ENABLED": "y"})
    counter_id = app.create_counter()
    app.increment(counter_id, times=2)
    app.take_snapshot(counter_id)  # version 3
    app.increment(counter_id, times=2)
    app.take_snapshot(counter_id, version=4)
    app.increment(counter_id)

    assert app.snapshots is not None
    versions = [s.originator_version for s in app.snapshots.get(counter_id)]
    assert versions == [3, 4]

    # Each version is the same whether from snapshots or from events only.
    events_only = Repository(app.events)
    for version in range(1, 8):
        from_snapshot = app.repository.get(counter_id, version=version)
        from_events = events_only.get(counter_id, version=version)
        assert from_snapshot.version == from_events.version
        assert from_snapshot.count == from_events.count
    assert app.repository.get(counter_id).count == 5

    # A repository that only finds a snapshot still gives the aggregate.
    snapshots_only = Repository(EventStore(app.mapper, app.recorder), app.snapshots)
    assert snapshots_only.get(counter_id, version=3).count == 2


def test_take_snapshot_twice_is_not_an_error() -> None:
    app = Counters(env={"IS_SNAPSHOTTING_ENABLED": "y"})
    counter_id = app.create_counter()
    app.take_snapshot(counter_id)
    app.take_snapshot(counter_id)
    assert app.snapshots is not None
    assert len(list(app.snapshots.get(counter_id))) == 1


def test_take_snapshot_when_snapshotting_is_off_raises_clear_error() -> None:
    app = Counters()
    counter_id = app.create_counter()
    with pytest.raises(ValueError, match="IS_SNAPSHOTTING_ENABLED"):
        app.take_snapshot(counter_id)


def test_take_snapshot_of_unknown_aggregate_raises_not_found() -> None:
    app = Counters(env={"IS_SNAPSHOTTING_ENABLED": "y"})
    with pytest.raises(AggregateNotFound):
        app.take_snapshot(uuid4())


class Other(Aggregate):
    @classmethod
    def create(cls) -> Other:
        return cls._create(cls.Created, id=uuid4())

    class Created(AggregateCreated["Other"]):
        pass


class SnapshottingCounters(Counters):
    snapshotting_intervals = {Counter: 3}


def test_snapshotting_intervals_enable_snapshotting() -> None:
    assert SnapshottingCounters().snapshots is not None


def test_snapshotting_intervals_snapshot_at_multiples() -> None:
    app = SnapshottingCounters()
    counter_id = app.create_counter()  # 1
    app.increment(counter_id)  # 2
    app.increment(counter_id)  # 3: snapshot from the saved aggregate
    app.increment(counter_id, times=4)  # 4..7: snapshot at 6, from the repository
    app.increment(counter_id, times=2)  # 8, 9: snapshot at 9
    app.increment(counter_id)  # 10

    # Aggregates of other classes, and unchanged ones, are not snapshotted.
    other = Other.create()
    app.save(other, app.repository.get(counter_id))

    assert app.snapshots is not None
    versions = [s.originator_version for s in app.snapshots.get(counter_id)]
    assert versions == [3, 6, 9]
    assert list(app.snapshots.get(other.id)) == []
    snapshot_6 = next(iter(app.snapshots.get(counter_id, gt=5, lte=6)))
    assert isinstance(snapshot_6, Snapshot)
    assert snapshot_6.state["count"] == 5


def test_snapshotting_intervals_when_snapshotting_switched_off() -> None:
    app = SnapshottingCounters(env={"IS_SNAPSHOTTING_ENABLED": "n"})
    assert app.snapshots is None
    counter_id = app.create_counter()
    app.increment(counter_id, times=5)
    assert app.repository.get(counter_id).count == 5


def test_custom_log_section_size() -> None:
    class SmallSections(Counters):
        log_section_size = 2

    app = SmallSections()
    counter_id = app.create_counter()
    app.increment(counter_id, times=3)
    section = app.log["1,10"]
    assert section.id == "1,2"
    assert section.next_id == "3,4"


def test_invalid_snapshotting_setting_raises_clear_error() -> None:
    with pytest.raises(ValueError, match="IS_SNAPSHOTTING_ENABLED='maybe'"):
        Counters(env={"IS_SNAPSHOTTING_ENABLED": "maybe"})
