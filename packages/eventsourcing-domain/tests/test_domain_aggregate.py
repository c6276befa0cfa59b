"""Aggregates, domain events, timestamps and snapshots, beyond the examples."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4, uuid5

import pytest

import eventsourcing.domain as domain
from eventsourcing.domain import (
    TZINFO,
    Aggregate,
    AggregateCreated,
    AggregateEvent,
    DomainEvent,
    Snapshot,
    VersionError,
    tzinfo_from_env,
    upcast_state,
)
from eventsourcing.utils import TopicError


class Account(Aggregate):
    """An aggregate defined in the classic style, at module level so topics resolve."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.balance = 0
        self.history: list[int] = []

    @classmethod
    def open(cls, owner: str) -> Account:
        return cls._create(cls.Opened, id=uuid4(), owner=owner)

    class Opened(Aggregate.Created):
        owner: str

    def deposit(self, amount: int) -> None:
        self.trigger_event(self.Deposited, amount=amount)

    class Deposited(Aggregate.Event):
        amount: int

        def apply(self, aggregate: Any) -> None:
            if self.amount <= 0:
                raise ValueError("amount must be positive")
            aggregate.balance += self.amount
            aggregate.history.append(self.amount)


class VersionedAccount(Account):
    class_version = 3

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["currency"] = "EUR"

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["limit"] = 0


def test_default_timezone_is_utc() -> None:
    assert TZINFO is UTC
    account = Account.open("alice")
    assert account.created_on.tzinfo is UTC


def test_timezone_can_be_assigned(monkeypatch: pytest.MonkeyPatch) -> None:
    tz = timezone(timedelta(hours=2))
    monkeypatch.setattr(domain, "TZINFO", tz)
    assert Account.open("alice").created_on.tzinfo is tz


def test_timezone_from_environment_topic() -> None:
    tz = tzinfo_from_env({"TZINFO_TOPIC": "datetime:timezone.utc"})
    assert tz is UTC
    assert tzinfo_from_env({"TZINFO_TOPIC": "datetime.timezone.utc"}) is UTC
    assert tzinfo_from_env({}) is UTC
    assert tzinfo_from_env({"TZINFO_TOPIC": ""}) is UTC


def test_timezone_topic_must_name_a_tzinfo() -> None:
    with pytest.raises(TypeError, match="TZINFO_TOPIC='datetime:datetime'"):
        tzinfo_from_env({"TZINFO_TOPIC": "datetime:datetime"})
    with pytest.raises(TopicError):
        tzinfo_from_env({"TZINFO_TOPIC": "no_such_module_xyz:utc"})


def test_timestamps_increase_even_when_the_clock_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frozen = datetime(2021, 1, 1, tzinfo=UTC)
    monkeypatch.setattr(DomainEvent, "create_timestamp", staticmethod(lambda: frozen))
    account = Account.open("alice")
    account.deposit(1)
    account.deposit(2)
    events = account.collect_events()
    assert [e.timestamp for e in events] == [
        frozen,
        frozen + timedelta(microseconds=1),
        frozen + timedelta(microseconds=2),
    ]
    assert account.modified_on > account.created_on


def test_version_and_timestamps_advance_with_each_event() -> None:
    account = Account.open("alice")
    account.deposit(5)
    assert account.version == 2
    assert account.balance == 5
    assert account.modified_on > account.created_on


def test_exception_in_apply_leaves_aggregate_unchanged() -> None:
    account = Account.open("alice")
    before = (account.version, account.modified_on, account.balance)
    with pytest.raises(ValueError, match="positive"):
        account.deposit(-1)
    assert (account.version, account.modified_on, account.balance) == before
    assert len(account.pending_events) == 1


def test_event_not_next_in_sequence_raises_version_error() -> None:
    account = Account.open("alice")
    event = Account.Deposited(
        originator_id=account.id,
        originator_version=3,
        timestamp=datetime.now(tz=UTC),
        amount=1,
    )
    with pytest.raises(VersionError, match=r"originator_version 3 .* is 2"):
        event.mutate(account)
    assert account.version == 1


def test_subsequent_event_needs_an_aggregate() -> None:
    event = Account.Deposited(
        originator_id=uuid4(),
        originator_version=2,
        timestamp=datetime.now(tz=UTC),
        amount=1,
    )
    with pytest.raises(TypeError, match="only a 'created' event"):
        event.mutate(None)


def test_events_are_frozen_dataclasses() -> None:
    account = Account.open("alice")
    event = account.collect_events()[0]
    assert isinstance(event, Account.Opened)
    with pytest.raises(FrozenInstanceError):
        event.owner = "bob"  # type: ignore[misc]  # the point of the test
    assert event == Account.Opened(
        originator_id=event.originator_id,
        originator_version=1,
        timestamp=event.timestamp,
        originator_topic=event.originator_topic,
        owner="alice",
    )


def test_replay_reconstructs_an_equal_aggregate() -> None:
    account = Account.open("alice")
    account.deposit(3)
    copy = None
    for e in account.pending_events:
        copy = e.mutate(copy)
    assert copy == account
    assert copy is not account
    assert copy != Account.open("alice")
    assert account != "not an aggregate"


def test_pending_events_are_a_copy_and_collecting_clears_them() -> None:
    account = Account.open("alice")
    account.pending_events.clear()
    assert len(account.pending_events) == 1
    assert len(account.collect_events()) == 1
    assert account.collect_events() == []


def test_id_version_and_timestamps_are_read_only() -> None:
    account = Account.open("alice")
    with pytest.raises(AttributeError):
        account.id = uuid4()  # type: ignore[misc]  # the point of the test
    with pytest.raises(AttributeError):
        account.version = 5  # type: ignore[misc]  # the point of the test


def test_repr_shows_id_version_timestamps_and_attributes() -> None:
    account = Account.open("alice")
    text = repr(account)
    assert text.startswith(f"Account(id={account.id!r}, version=1, created_on=")
    assert "owner='alice'" in text
    assert "pending_events" not in text


def test_create_without_id_uses_create_id() -> None:
    class Named(Aggregate):
        @staticmethod
        def create_id(name: str) -> UUID:
            return uuid5(UUID(int=0), name)

        class Created(Aggregate.Created):
            name: str

        def __init__(self, name: str) -> None:
            self.name = name

    agg = Named._create(Named.Created, name="x")
    assert agg.id == uuid5(UUID(int=0), "x")


def test_create_id_with_keyword_arguments_gets_them_all() -> None:
    seen: dict[str, Any] = {}

    class Keyed(Aggregate):
        @staticmethod
        def create_id(**kwargs: Any) -> UUID:
            seen.update(kwargs)
            return uuid4()

        a: int
        b: int

    Keyed(1, b=2)
    assert seen == {"a": 1, "b": 2}


def test_module_level_event_classes() -> None:
    assert issubclass(Aggregate.Created, AggregateCreated)
    assert issubclass(Aggregate.Event, AggregateEvent)
    assert issubclass(AggregateCreated, AggregateEvent)
    assert issubclass(AggregateEvent, DomainEvent)
    assert AggregateEvent["Account"] is not None  # generic in the aggregate type


def test_snapshot_round_trip_and_independence() -> None:
    account = Account.open("alice")
    account.deposit(4)
    snapshot = Snapshot.take(account)
    assert snapshot.topic == f"{__name__}:Account"
    assert set(snapshot.state) == {
        "owner",
        "balance",
        "history",
        "_created_on",
        "_modified_on",
    }
    account.deposit(6)
    assert snapshot.state["history"] == [4]
    copy = snapshot.mutate()
    assert copy.version == 2
    assert copy.history == [4]
    assert copy.pending_events == []
    copy.deposit(1)
    assert snapshot.state["history"] == [4]


def test_snapshot_records_class_version_above_one_and_upcasts() -> None:
    account = VersionedAccount.open("bob")
    snapshot = Snapshot.take(account)
    assert snapshot.state["class_version"] == 3
    assert "class_version" not in Snapshot.take(Account.open("x")).state
    copy = snapshot.mutate()
    assert copy.owner == "bob"
    assert "class_version" not in copy.__dict__
    old_state = dict(snapshot.state)
    del old_state["class_version"]
    old = Snapshot(
        originator_id=account.id,
        originator_version=1,
        timestamp=snapshot.timestamp,
        topic=snapshot.topic,
        state=old_state,
    )
    upcasted = old.mutate()
    assert (upcasted.currency, upcasted.limit) == ("EUR", 0)


def test_upcast_state_errors_are_clear() -> None:
    with pytest.raises(TypeError, match="define the static method upcast_v1_v2"):
        upcast_state(type("NoUpcasts", (), {"class_version": 2}), {})
    with pytest.raises(TypeError, match="stored at class_version 5"):
        upcast_state(Account, {"class_version": 5})


def test_upcast_state_without_versions_changes_nothing() -> None:
    state: dict[str, Any] = {"a": 1, "class_version": 1}
    upcast_state(Account, state)
    assert state == {"a": 1}
