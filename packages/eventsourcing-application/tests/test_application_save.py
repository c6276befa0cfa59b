"""Saving: one path through record(), what 9.1 code passes to save(), and a failed
save that loses nothing; closing; secrets kept out of reprs. On every backend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import uuid4

import pytest

import eventsourcing.system
from eventsourcing.application import Application, ProcessEvent, Repository
from eventsourcing.domain import Aggregate, Snapshot, event
from eventsourcing.persistence import (
    DataError,
    OperationalError,
    RecordConflictError,
    Recording,
    StoredEvent,
)

pytestmark = pytest.mark.usefixtures("backend_environ")


class Account(Aggregate):
    @event("Opened")
    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.balance = 0

    @event("Deposited")
    def deposit(self, amount: int) -> None:
        self.balance += amount


class Bank(Application[Account]):
    def open(self, owner: str) -> Account:
        account = Account(owner)
        self.save(account)
        return account


def test_a_conflicting_save_keeps_the_pending_events_and_says_to_retry() -> None:
    with Bank() as app:
        account = app.open("Ada")
        stale = app.repository.get(account.id)
        fresh = app.repository.get(account.id)
        fresh.deposit(1)
        app.save(fresh)
        stale.deposit(2)
        for _ in range(2):  # a second attempt fails the same way, not silently
            with pytest.raises(RecordConflictError) as raised:
                app.save(stale)
            assert len(stale.pending_events) == 1
        message = str(raised.value)
        assert "did not save" in message
        assert "get it again and retry" in message
        assert message.lower().count("retry") == 2  # said once, with its helper
        assert isinstance(raised.value.__cause__, RecordConflictError)
        # The retry pattern: get it again, run the command again, save.
        again = app.repository.get(account.id)
        again.deposit(2)
        app.save(again)
        assert app.repository.get(account.id).balance == 3


def test_a_save_that_fails_otherwise_keeps_the_pending_events() -> None:
    class Failing(Bank):
        def record(self, process_event: ProcessEvent) -> Sequence[Recording]:
            msg = "the database went away"
            raise OperationalError(msg)

    with Failing() as app:
        account = Account("Ada")
        with pytest.raises(OperationalError):
            app.save(account)
        assert len(account.pending_events) == 1


def test_a_failure_after_recording_keeps_the_events_recorded() -> None:
    class LoudNotify(Bank):
        def notify(self, new_events: list[Any]) -> None:
            msg = "a follower was prompted and conflicted"
            raise RecordConflictError(msg)

    class LoudNotifyOther(Bank):
        def notify(self, new_events: list[Any]) -> None:
            msg = "prompting failed"
            raise RuntimeError(msg)

    for cls in (LoudNotify, LoudNotifyOther):
        with cls() as app:
            account = Account("Ada")
            with pytest.raises((RecordConflictError, RuntimeError)) as raised:
                app.save(account)
            assert "did not save" not in str(raised.value)
            assert account.pending_events == []
            assert account.id in app.repository


def test_save_calls_an_overridden_record_and_returns_its_recordings() -> None:
    recorded: list[ProcessEvent] = []

    class Watching(Bank):
        def record(self, process_event: ProcessEvent) -> Sequence[Recording]:
            recorded.append(process_event)
            return super().record(process_event)

    with Watching() as app:
        account = Account("Ada")
        account.deposit(5)
        recordings = app.save(account)
        assert [r.domain_event.originator_version for r in recordings] == [1, 2]
        assert [r.notification.id for r in recordings] == [1, 2]
        assert recorded[0].events == [r.domain_event for r in recordings]
        assert recorded[0].tracking is None
        assert app.save() == []


def test_save_accepts_domain_events_and_none_as_9_1_does() -> None:
    with Bank() as app:
        account = Account("Ada")
        (opened,) = account.collect_events()
        account.deposit(1)
        app.save(None, opened, account, None)
        assert app.repository.get(account.id).balance == 1
        with pytest.raises(TypeError, match="give aggregates"):
            app.save("not an aggregate")


def test_a_save_refused_for_a_bad_argument_leaves_every_aggregate_as_it_was() -> None:
    with Bank() as app:
        first, second = Account("Ada"), Account("Bob")
        with pytest.raises(TypeError, match="give aggregates"):
            app.save(first, "not an aggregate", second)
        assert len(first.pending_events) == 1
        assert len(second.pending_events) == 1
        app.save(first, second)
        assert app.repository.get(second.id).owner == "Bob"


def test_a_save_of_several_aggregates_keeps_the_order_they_were_changed_in() -> None:
    with Bank() as app:
        first, second = Account("Ada"), Account("Bob")
        second.deposit(1)
        first.deposit(2)
        recordings = app.save(first, second)
        topics = [
            (r.domain_event.originator_id, r.domain_event.originator_version)
            for r in recordings
        ]
        assert topics == [(first.id, 1), (second.id, 1), (second.id, 2), (first.id, 2)]


def test_process_event_is_importable_from_the_application_too() -> None:
    assert eventsourcing.system.ProcessEvent is ProcessEvent
    process_event = ProcessEvent()
    process_event.collect_events(Account("Ada"))
    assert len(process_event.events) == 1


def test_repository_types_follow_the_application_subscript() -> None:
    with Bank() as app:
        account = app.open("Ada")
        got: Account = app.repository.get(account.id)  # typed, no cast needed
        assert got.owner == "Ada"
        assert isinstance(app.repository, Repository)


def test_a_snapshot_store_record_that_is_not_a_snapshot_is_refused() -> None:
    class Snapshotting(Bank):
        is_snapshotting_enabled = True

    with Snapshotting() as app:
        account = app.open("Ada")
        assert app.snapshots is not None
        (opened,) = app.events.get(account.id, lte=1)
        forged: StoredEvent = app.mapper.from_domain_event(opened)
        app.snapshots.recorder.insert_events([forged])
        with pytest.raises(DataError, match="not a Snapshot"):
            app.repository.get(account.id)


def test_close_and_use_as_a_context_manager() -> None:
    closed: list[bool] = []
    app = Bank()
    original = app.factory.close

    def close() -> None:
        closed.append(True)
        original()

    app.factory.close = close  # type: ignore[method-assign]  # spying on it
    with app as entered:
        assert entered is app
    assert closed == [True]


def test_secrets_are_not_shown_in_the_applications_environment() -> None:
    key = "c2VjcmV0IGtleSBvZiAxNiBi"
    app = Bank(env={"SOME_PASSWORD": "hunter2", "BANK_API_TOKEN": key})
    for text in (repr(app.env), str(app.env), repr(app.factory)):
        assert "hunter2" not in text
        assert key not in text
    assert app.env["SOME_PASSWORD"] == "hunter2"
    app.close()


def test_an_aggregate_from_a_snapshot_is_refreshed_by_later_events() -> None:
    class Snapshotting(Bank):
        snapshotting_intervals = {Account: 2}

    with Snapshotting() as app:
        account = app.open("Ada")
        account.deposit(1)
        app.save(account)
        assert app.snapshots is not None
        assert [s.originator_version for s in app.snapshots.get(account.id)] == [2]
        # Taking an automatic snapshot that exists already is not an error.
        app.take_automatic_snapshots([account], [account_event(account, 2)])
        assert isinstance(next(app.snapshots.get(account.id)), Snapshot)
        assert uuid4() not in app.repository


def account_event(account: Account, version: int) -> Any:
    class Stand:
        originator_id = account.id
        originator_version = version

    return Stand()


def test_process_event_collects_from_one_aggregate_once_and_in_order() -> None:
    first = Account("Ada")
    process_event = ProcessEvent()
    process_event.save(first)
    first.deposit(1)
    process_event.save(first)
    assert process_event.aggregates == [first]
    assert [e.originator_version for e in process_event.events] == [1, 2]


def test_restoring_skips_objects_without_pending_event_lists() -> None:
    class Custom:
        def collect_events(self) -> list[Any]:
            return []

    process_event = ProcessEvent()
    custom = Custom()
    process_event.save(custom)
    process_event.restore_pending_events()
    assert not hasattr(custom, "_pending_events")
