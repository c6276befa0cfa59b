"""The declarative syntax: metaclass, ``@event``/``@triggers`` and ``@aggregate``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import pytest

from eventsourcing.domain import (
    Aggregate,
    AggregateEvent,
    BoundCommandMethodDecorator,
    DecoratedEvent,
    UnboundCommandMethodDecorator,
    aggregate,
    event,
    triggers,
)
from eventsourcing.utils import get_topic, resolve_topic


class Person(Aggregate):
    """Module level, so that its events' topics resolve."""

    name: str
    nicknames: list[str] = field(default_factory=list, init=False)

    @property
    def display_name(self) -> str:
        return self.name

    @display_name.setter
    @event("DisplayNameChanged")
    def display_name(self, value: str) -> None:
        self.name = value

    @triggers
    def nickname_added(self, nickname: str, /, loud: bool = False) -> None:
        self.nicknames.append(nickname.upper() if loud else nickname)


class Employee(Person):
    """A subclass with no annotations of its own: it keeps Person's __init__."""


class Manager(Person):
    """A subclass that adds a field."""

    reports: int = 0


def replay(events: list[Any]) -> Any:
    copy = None
    for e in events:
        copy = e.mutate(copy)
    return copy


def test_decorated_property_setter_triggers_event_named_by_argument() -> None:
    person = Person("ann")
    person.display_name = "Ann"
    events = person.collect_events()
    assert isinstance(events[1], Person.DisplayNameChanged)  # type: ignore[attr-defined]  # defined by @event
    assert events[1].value == "Ann"
    assert replay(events).name == "Ann"


def test_event_classes_defined_by_decorators_are_nested_and_resolvable() -> None:
    cls = Person.DisplayNameChanged  # type: ignore[attr-defined]  # defined by @event
    assert issubclass(cls, DecoratedEvent)
    assert issubclass(cls, Person.Event)
    assert resolve_topic(get_topic(cls)) is cls
    assert resolve_topic(get_topic(Person.Created)) is Person.Created


def test_triggers_is_an_alias_with_positional_only_and_default_arguments() -> None:
    person = Person("ann")
    person.nickname_added("annie")
    person.nickname_added("nan", loud=True)
    assert person.nicknames == ["annie", "NAN"]
    events = person.collect_events()
    assert events[2].loud is True  # type: ignore[attr-defined]  # defined by @event
    assert replay(events).nicknames == ["annie", "NAN"]
    assert triggers is event


def test_decorated_method_accessed_on_class_and_instance() -> None:
    person = Person("ann")
    unbound = Person.nickname_added
    assert isinstance(unbound, UnboundCommandMethodDecorator)
    assert unbound.__doc__ == Person.__dict__["nickname_added"].method.__doc__
    unbound(person, "x")
    bound = person.nickname_added
    assert isinstance(bound, BoundCommandMethodDecorator)
    bound("y")
    assert person.nicknames == ["x", "y"]


def test_wrong_arguments_to_decorated_method_raise_type_error() -> None:
    person = Person("ann")
    with pytest.raises(TypeError, match=r"Person.nickname_added\(\): missing"):
        person.nickname_added()  # type: ignore[call-arg]  # the point of the test
    assert person.version == 1


def test_subclasses_inherit_created_event_and_init() -> None:
    employee = Employee("bob")
    employee.nickname_added("b")
    events = employee.collect_events()
    assert isinstance(events[0], Person.Created)
    copy = replay(events)
    assert isinstance(copy, Employee)
    assert copy.nicknames == ["b"]


def test_subclass_with_more_fields_gets_its_own_created_event() -> None:
    manager = Manager("cat", reports=3)
    events = manager.collect_events()
    assert type(events[0]) is Manager.Created
    assert issubclass(Manager.Created, Person.Created)
    assert replay(events).reports == 3


def test_dataclass_decorator_keeps_aggregate_eq_and_repr() -> None:
    @dataclass
    class Thing(Aggregate):
        size: int

    a, b = Thing(1), Thing(1)
    assert a != b  # different IDs, unlike dataclass equality
    assert repr(a).startswith(f"Thing(id={a.id!r}")
    assert Thing.__eq__ is Aggregate.__eq__


def test_own_eq_is_kept() -> None:
    class Custom(Aggregate):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = None  # type: ignore[assignment]  # as Python sets it

    assert Custom() == 1


def test_init_with_id_argument_and_created_event_from_other_arguments() -> None:
    class WithId(Aggregate):
        def __init__(self, id: UUID, name: str) -> None:
            self._id = id
            self.name = name

    agg_id = uuid4()
    agg = WithId(agg_id, "n")
    assert agg.id == agg_id
    created = agg.collect_events()[0]
    assert "id" not in WithId.Created.__dataclass_fields__
    assert created.name == "n"  # type: ignore[attr-defined]  # defined from __init__


class Ided(Aggregate):
    id: UUID
    name: str = "x"


def test_id_annotation_with_dataclass_style() -> None:
    agg_id = uuid4()
    agg = Ided(id=agg_id)
    assert (agg.id, agg.name) == (agg_id, "x")
    assert "id" not in Ided.__dict__
    with pytest.raises(TypeError, match="missing a required argument: 'id'"):
        Ided(name="y")  # type: ignore[call-arg]  # the point of the test
    assert replay(agg.collect_events()).id == agg_id


# An optional ID works at run time; type checkers see the base's UUID property.
class OptionalId(Aggregate):
    name: str
    id: UUID | None = None  # type: ignore[assignment]


class FieldId(Aggregate):
    id: UUID | None = field(default=None)  # type: ignore[assignment]


def test_optional_id_annotation_with_dataclass_style() -> None:
    agg = OptionalId("x")
    assert isinstance(agg.id, UUID)
    assert agg.id.version == 4
    agg_id = uuid4()
    assert OptionalId("x", agg_id).id == agg_id
    assert isinstance(FieldId().id, UUID)
    assert FieldId(id=agg_id).id == agg_id
    assert replay(FieldId(id=agg_id).collect_events()).id == agg_id


def test_several_created_event_classes_need_a_choice() -> None:
    with pytest.raises(TypeError, match="several created event classes"):

        class Ambiguous(Aggregate):
            class Created(Aggregate.Created):
                pass

            class Started(Aggregate.Created):
                pass


def test_created_event_cannot_be_defined_from_var_arguments() -> None:
    with pytest.raises(TypeError, match=r"takes \*args or \*\*kwargs"):

        class Loose(Aggregate):
            def __init__(self, **kwargs: Any) -> None:
                pass


def test_init_with_var_arguments_and_explicit_created_event() -> None:
    class Loose(Aggregate):
        class Created(Aggregate.Created):
            a: int

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.kwargs = kwargs

    class LooseChild(Loose):
        pass

    agg = LooseChild(a=1)
    assert agg.kwargs == {"a": 1}
    assert LooseChild.Created is Loose.Created
    with pytest.raises(TypeError, match=r"cannot record positional arguments"):
        LooseChild(1)


def test_init_argument_clashing_with_event_attributes() -> None:
    with pytest.raises(TypeError, match="'timestamp' clashes"):

        class Clash(Aggregate):
            timestamp: str


def test_calling_class_with_wrong_arguments() -> None:
    with pytest.raises(TypeError, match=r"Person\(\): missing a required argument"):
        Person()  # type: ignore[call-arg]  # the point of the test


def test_exception_in_decorated_body_leaves_no_event_and_no_change() -> None:
    class Guarded(Aggregate):
        count: int = 0

        @event
        def incremented(self, by: int) -> None:
            if by < 0:
                raise ValueError("negative")
            self.count += by

    agg = Guarded()
    with pytest.raises(ValueError, match="negative"):
        agg.incremented(-1)
    assert (agg.version, agg.count, len(agg.pending_events)) == (1, 0, 1)
    agg.incremented(2)
    assert (agg.version, agg.count, len(agg.pending_events)) == (2, 2, 2)


def test_event_with_given_class_applies_method_body() -> None:
    class Renamable(Aggregate):
        name: str = ""

        class Renamed(Aggregate.Event):
            name: str

        @event(Renamed)
        def rename(self, name: str) -> None:
            self.name = name

    agg = Renamable()
    agg.rename("new")
    assert agg.name == "new"
    assert isinstance(agg.collect_events()[1], Renamable.Renamed)


def test_given_event_class_with_its_own_apply_is_refused() -> None:
    with pytest.raises(TypeError, match="already has its own apply"):

        class Twice(Aggregate):
            class Renamed(Aggregate.Event):
                name: str

                def apply(self, aggregate: Any) -> None:
                    pass

            @event(Renamed)
            def rename(self, name: str) -> None:
                pass


def test_event_name_that_is_already_defined_is_refused() -> None:
    with pytest.raises(TypeError, match="already defines 'Renamed'"):

        class Twice(Aggregate):
            class Renamed(Aggregate.Event):
                name: str

            @event("Renamed")
            def rename(self, name: str) -> None:
                pass


def test_bare_event_on_property_setter_is_refused() -> None:
    with pytest.raises(TypeError, match="needs an event name"):

        class Setter(Aggregate):
            @property
            def name(self) -> str:
                return ""

            @name.setter
            @event
            def name(self, value: str) -> None:
                pass


def test_event_decorator_argument_checks() -> None:
    with pytest.raises(ValueError, match="valid class name"):
        event("not a name")
    with pytest.raises(TypeError, match=r"subclass of Aggregate\.Event"):
        event(int)
    with pytest.raises(TypeError, match="decorates a plain method"):
        event(property(lambda self: None))  # type: ignore[call-overload]  # the point
    with pytest.raises(TypeError, match="decorates a plain method"):
        event("Named")(42)  # type: ignore[type-var]  # the point of the test


def test_event_decorator_with_parentheses_and_no_name() -> None:
    class Parens(Aggregate):
        @event()
        def poked(self) -> None:
            pass

    agg = Parens()
    agg.poked()
    assert isinstance(agg.collect_events()[1], Parens.Poked)  # type: ignore[attr-defined]  # defined by @event


def test_decorated_method_signature_checks() -> None:
    with pytest.raises(TypeError, match="takes no 'self'"):
        event(lambda: None)
    with pytest.raises(TypeError, match=r"not from \*args"):

        @event
        def spread(self: Any, *args: Any) -> None:
            pass

    with pytest.raises(TypeError, match="'originator_version' clashes"):

        class Clash(Aggregate):
            @event
            def bumped(self, originator_version: int) -> None:
                pass


def test_decorated_method_outside_an_aggregate_class() -> None:
    class Plain:
        @event
        def done(self) -> None:
            pass

    with pytest.raises(TypeError, match="is not an aggregate"):
        Plain().done()


def test_aggregate_decorator_without_arguments_and_with_bases() -> None:
    class Base:
        def greet(self) -> str:
            return "hi"

    @aggregate
    class Greeter(Base):
        name: str

        @event
        def renamed(self, name: str) -> None:
            self.name = name

    agg = Greeter("x")  # type: ignore[call-arg]  # @aggregate is invisible to mypy
    agg.renamed("y")
    assert (agg.greet(), agg.name) == ("hi", "y")
    assert isinstance(agg, Aggregate)
    assert len(agg.collect_events()) == 2


def test_aggregate_decorator_refuses_an_aggregate() -> None:
    with pytest.raises(TypeError, match="already an aggregate"):
        aggregate(Person)


def test_event_classes_are_generic_in_the_aggregate() -> None:
    class Typed(Aggregate):
        class Event(AggregateEvent["Typed"]):
            pass

        class Done(Event):
            pass

        def done(self) -> None:
            self.trigger_event(self.Done)

    agg = Typed()
    agg.done()
    assert agg.version == 2
