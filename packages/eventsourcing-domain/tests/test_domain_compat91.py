"""Domain model code written for eventsourcing 9.1.x runs unchanged."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass
from datetime import datetime
from functools import singledispatch
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import pytest

import eventsourcing.dispatch
import eventsourcing.domain
import eventsourcing.utils
from eventsourcing.domain import (
    Aggregate,
    AggregateCreated,
    AggregateEvent,
    DomainEvent,
    OriginatorIDError,
    OriginatorVersionError,
    Snapshot,
    VersionError,
    event,
)
from eventsourcing.utils import TopicError, get_topic


class Account(Aggregate):
    @event("Opened")
    def __init__(self, number: str, owner: str) -> None:
        self.number = number
        self.owner = owner
        self.balance = 0

    @staticmethod
    def create_id(number: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/accounts/{number}")

    @event("Deposited")
    def deposit(self, amount: int) -> None:
        self.balance += amount


class Named(Aggregate, created_event_name="Opened"):
    def __init__(self, number: str, owner: str) -> None:
        self.number = number
        self.owner = owner


def replay(events: list[Any]) -> Any:
    aggregate = None
    for domain_event in events:
        aggregate = domain_event.mutate(aggregate)
    return aggregate


def test_event_with_a_name_on_init_names_the_created_event() -> None:
    account = Account(number="DE-1", owner="Ada")
    account.deposit(5)
    opened, deposited = account.collect_events()
    assert type(opened) is Account.Opened  # type: ignore[attr-defined]  # defined by @event
    assert get_topic(type(opened)) == f"{__name__}:Account.Opened"
    # The same topic as the class argument gives.
    assert get_topic(Named._created_event_class) == f"{__name__}:Named.Opened"
    assert (opened.number, opened.owner) == ("DE-1", "Ada")  # type: ignore[attr-defined]  # event fields
    assert account.id == Account.create_id("DE-1")
    copy = replay([opened, deposited])
    assert (copy.number, copy.owner, copy.balance, copy.version) == (
        "DE-1",
        "Ada",
        5,
        2,
    )


def test_event_with_a_class_on_init_uses_that_created_event() -> None:
    class Dog(Aggregate):
        class Registered(Aggregate.Created):
            name: str

        @event(Registered)
        def __init__(self, name: str) -> None:
            self.name = name

    dog = Dog(name="Fido")
    (registered,) = dog.collect_events()
    assert type(registered) is Dog.Registered
    assert isinstance(registered, Dog.Event)
    assert replay([registered]).name == "Fido"


def test_event_class_on_init_defined_outside_the_body_is_used() -> None:
    class Started(Aggregate.Created):
        name: str

    class Thing(Aggregate):
        @event(Started)
        def __init__(self, name: str) -> None:
            self.name = name

    (started,) = Thing(name="x").collect_events()
    assert type(started) is Started
    assert Thing.Started is Started  # type: ignore[attr-defined]  # set by @event


def test_bare_event_on_init_keeps_the_default_created_event() -> None:
    class Bare(Aggregate):
        @event
        def __init__(self, name: str) -> None:
            self.name = name

    (created,) = Bare(name="x").collect_events()
    assert type(created) is Bare.Created
    assert created.name == "x"  # type: ignore[attr-defined]  # defined from __init__


def test_event_on_init_refuses_a_class_that_is_not_a_created_event() -> None:
    with pytest.raises(TypeError, match="must be a created event class"):

        class Wrong(Aggregate):
            class Moved(Aggregate.Event):
                pass

            @event(Moved)
            def __init__(self) -> None:
                pass


def test_event_on_init_and_created_event_name_must_agree() -> None:
    with pytest.raises(TypeError, match="names its created event twice"):

        class Twice(Aggregate, created_event_name="Started"):
            @event("Opened")
            def __init__(self) -> None:
                pass

    class Same(Aggregate, created_event_name="Opened"):
        @event("Opened")
        def __init__(self) -> None:
            pass

    assert type(Same().collect_events()[0]).__name__ == "Opened"


def test_each_aggregate_class_has_its_own_event_base() -> None:
    class Order(Aggregate):
        def __init__(self) -> None:
            self.lines = 0

        @event("LineAdded")
        def add_line(self) -> None:
            self.lines += 1

        class Cancelled(Aggregate.Event):
            pass

        def cancel(self) -> None:
            self.trigger_event(self.Cancelled)

    class Other(Aggregate):
        pass

    assert Order.Event is not Aggregate.Event
    assert issubclass(Order.Event, Aggregate.Event)
    assert Order.Event.__qualname__.endswith("Order.Event")
    order = Order()
    order.add_line()
    order.cancel()
    events = order.collect_events()
    assert all(isinstance(e, Order.Event) for e in events)
    assert not any(isinstance(e, Other.Event) for e in events)
    # Classes of the body keep their names and topics, and are still instances
    # of what they were written to derive from.
    assert isinstance(events[2], Aggregate.Event)
    assert get_topic(type(events[2])) == f"{__name__}:{Order.__qualname__}.Cancelled"


def test_policies_that_dispatch_on_the_aggregate_event_class_see_created_events() -> (
    None
):
    class Shop(Aggregate):
        @event("Opened")
        def __init__(self, name: str) -> None:
            self.name = name

        @event("Renamed")
        def rename(self, name: str) -> None:
            self.name = name

    seen: list[str] = []

    @singledispatch
    def policy(domain_event: Any) -> None:
        """Ignores events of other aggregates."""

    @policy.register(Shop.Event)
    def _(domain_event: Shop.Event) -> None:
        seen.append(type(domain_event).__name__)

    shop = Shop(name="a")
    shop.rename("b")
    for domain_event in shop.collect_events():
        policy(domain_event)
    assert seen == ["Opened", "Renamed"]


def test_body_event_hierarchies_are_kept_when_adopted() -> None:
    class Parcel(Aggregate):
        class Moved(Aggregate.Event):
            place: str

        class Arrived(Moved):
            pass

        def arrive(self, place: str) -> None:
            self.trigger_event(self.Arrived, place=place)

    parcel = Parcel()
    parcel.arrive("here")
    arrived = parcel.collect_events()[1]
    assert isinstance(arrived, Parcel.Moved)
    assert isinstance(arrived, Parcel.Event)


def test_subclass_events_derive_from_the_base_aggregate_events() -> None:
    class Animal(Aggregate):
        @event("Born")
        def __init__(self, name: str) -> None:
            self.name = name

    class Cat(Animal):
        @event("Purred")
        def purr(self) -> None:
            pass

    cat = Cat(name="Tom")
    cat.purr()
    born, purred = cat.collect_events()
    assert issubclass(Cat.Event, Animal.Event)
    assert isinstance(born, Cat.Event)
    assert isinstance(purred, Animal.Event)
    assert replay([born, purred]).name == "Tom"


def test_an_event_class_named_event_in_the_body_is_the_base() -> None:
    class Ship(Aggregate):
        class Event(AggregateEvent["Ship"]):
            pass

        class Sailed(Event):
            pass

        class Launched(Aggregate.Created):
            pass

    assert not issubclass(Ship.Event, Aggregate.Event)
    assert issubclass(Ship.Sailed, Ship.Event)
    assert issubclass(Ship.Launched, Ship.Event)
    assert isinstance(Ship(), Ship)


def test_generic_subscripts_of_9_1_code_work_as_bases() -> None:
    class Dog(Aggregate):
        class Registered(Aggregate.Created["Dog"]):
            name: str

        class Named(Aggregate.Event["Dog"]):
            name: str

    class Noted(DomainEvent["Dog"]):
        note: str

    class DogSnapshot(Snapshot["Dog"]):
        pass

    assert issubclass(Dog.Registered, Dog.Event)
    assert issubclass(Dog.Named, Aggregate.Event)

    class Barked(Dog.Event["Dog"]):  # the class's own Event, subscripted
        pass

    assert issubclass(Barked, Dog.Event)
    assert issubclass(Noted, DomainEvent)
    assert issubclass(DogSnapshot, Snapshot)


def test_event_applied_to_another_aggregate_raises_originator_id_error() -> None:
    first = Account(number="A", owner="x")
    second = Account(number="B", owner="y")
    first.deposit(1)
    deposited = first.collect_events()[1]
    with pytest.raises(OriginatorIDError, match="cannot be applied"):
        deposited.mutate(second)
    assert second.balance == 0


def test_an_event_with_an_equal_id_object_applies_to_its_aggregate() -> None:
    # Events read back from a database carry ID objects of their own.
    account = Account(number="D", owner="x")
    account.deposit(1)
    opened, deposited = account.collect_events()
    fresh = replay([opened])
    copied = type(deposited)(
        **{**deposited.__dict__, "originator_id": UUID(str(account.id))}
    )
    assert copied.originator_id is not fresh.id
    assert copied.mutate(fresh) is fresh
    assert fresh is not None
    assert fresh.balance == 1


def test_wrong_version_raises_originator_version_error_also_a_version_error() -> None:
    account = Account(number="C", owner="x")
    account.deposit(1)
    opened, deposited = account.collect_events()
    fresh = replay([opened])
    fresh_copy = replay([opened])
    deposited.mutate(fresh)
    with pytest.raises(OriginatorVersionError):
        deposited.mutate(fresh)
    with pytest.raises(VersionError, match="next version"):
        replay([opened, deposited, deposited])
    assert fresh_copy.version == 1


def test_event_above_a_property_setter_triggers_the_event() -> None:
    class Person(Aggregate):
        def __init__(self) -> None:
            self._name = ""

        @property
        def name(self) -> str:
            return self._name

        # mypy accepts only @name.setter on top (so typed code puts @event
        # beneath it); at run time both orders work.
        @event("NameChanged")  # type: ignore[misc]
        @name.setter
        def name(self, value: str) -> None:
            self._name = value

    person = Person()
    person.name = "Ada"  # type: ignore[misc]  # mypy sees no setter (see above)
    created, changed = person.collect_events()
    assert type(changed).__name__ == "NameChanged"
    assert changed.value == "Ada"  # type: ignore[attr-defined]  # event field
    assert replay([created, changed]).name == "Ada"


def test_event_above_a_property_without_setter_is_refused() -> None:
    with pytest.raises(TypeError, match="property setter"):
        event("Changed")(property(lambda self: None))  # type: ignore[type-var]  # the point


def test_dataclass_frozen_decorator_on_domain_event_subclasses_works() -> None:
    @dataclass(frozen=True)
    class Noted(DomainEvent):
        note: str

    @dataclass(frozen=True)
    class Flagged(Noted):
        flag: bool

    class Plain(Noted):
        extra: int

    flagged = Flagged(
        originator_id=uuid4(),
        originator_version=1,
        timestamp=datetime.now(),
        note="n",
        flag=True,
    )
    plain = Plain(
        originator_id=uuid4(),
        originator_version=1,
        timestamp=datetime.now(),
        note="n",
        extra=1,
    )
    for obj, names in ((flagged, ("note", "flag", "other")), (plain, ("extra",))):
        for name in names:
            with pytest.raises(FrozenInstanceError):
                setattr(obj, name, None)
        with pytest.raises(FrozenInstanceError):
            delattr(obj, names[0])
    assert flagged == Flagged(**vars(flagged))
    assert hash(flagged) == hash(Flagged(**vars(flagged)))


def make_local_aggregate_class() -> type[Aggregate]:
    class Local(Aggregate):
        @event("Started")
        def __init__(self, name: str) -> None:
            self.name = name

    return Local


def test_aggregates_defined_inside_functions_reload_in_the_same_process() -> None:
    local_class = make_local_aggregate_class()
    aggregate = local_class(name="x")  # type: ignore[call-arg]  # made by the function
    (started,) = aggregate.collect_events()
    assert "<locals>" in started.originator_topic  # type: ignore[attr-defined]  # field
    copy = started.mutate(None)
    assert type(copy) is local_class
    assert copy.name == "x"  # type: ignore[attr-defined]  # set by __init__
    snapshot = Snapshot.take(aggregate)
    assert snapshot.mutate() == aggregate


def test_version_of_each_module_is_available() -> None:
    for module in (eventsourcing.domain, eventsourcing.utils, eventsourcing.dispatch):
        assert module.__version__.count(".") >= 2
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        eventsourcing.domain.nope  # type: ignore[attr-defined]  # the point


def test_library_classes_report_their_public_module() -> None:
    assert VersionError.__module__ == "eventsourcing.domain"
    assert Aggregate.Created.__module__ == "eventsourcing.domain"
    assert get_topic(Snapshot) == "eventsourcing.domain:Snapshot"
    assert TopicError.__module__ == "eventsourcing.utils"
    assert AggregateCreated.__module__ == "eventsourcing.domain"
