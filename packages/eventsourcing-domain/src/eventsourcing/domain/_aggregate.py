"""The aggregate base class, its metaclass (declarative syntax) and ``@aggregate``."""

from __future__ import annotations

import inspect
from abc import ABCMeta
from collections.abc import Callable
from dataclasses import MISSING, Field, InitVar, dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast, dataclass_transform, overload
from uuid import UUID, uuid4

from eventsourcing.domain._decorators import (
    INIT_EVENT_ATTRIBUTE,
    CommandMethodDecorator,
)
from eventsourcing.domain._events import (
    _CREATED_BASE_FIELDS,
    AggregateCreated,
    AggregateEvent,
    MetaDomainEvent,
    TAggregate,
)
from eventsourcing.utils import get_topic

_T = TypeVar("_T")
_TAggregate = TypeVar("_TAggregate", bound="Aggregate")

_VAR_KINDS = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
_NO_INIT = inspect.Signature(
    [inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)]
)


@dataclass_transform()
class MetaAggregate(ABCMeta):
    """Metaclass of aggregates: it implements the declarative syntax.

    It makes an ``__init__()`` from dataclass-style annotations, defines the
    created event class from the ``__init__()`` signature when the class does not
    define one (named by the ``created_event_name`` class argument, default
    ``"Created"``), defines the event classes of ``@event`` methods, and makes
    calling the class create an aggregate through its created event.
    """

    _created_event_class: type[AggregateCreated[Any]]
    _init_signature: inspect.Signature

    def __new__(
        mcs,
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        *,
        created_event_name: str | None = None,
    ) -> MetaAggregate:
        is_subclass = any(isinstance(base, MetaAggregate) for base in bases)
        annotations = namespace.get("__annotations__", {})
        make_init = is_subclass and "__init__" not in namespace and bool(annotations)
        if make_init and "id" in annotations:
            # The ID is not an ordinary attribute: it is the created event's
            # originator_id, already set on the aggregate when __init__ runs. As
            # an init-only field with a field() (never the inherited property) as
            # its default, it is an __init__ argument and nothing more.
            annotations["id"] = InitVar(annotations["id"])
            default = namespace.get("id", MISSING)
            namespace["id"] = (
                default if isinstance(default, Field) else field(default=default)
            )
        cls = super().__new__(mcs, name, bases, namespace)
        if is_subclass:
            # Pin the aggregate's __eq__ and __repr__ so that a @dataclass
            # decorator, applied after this, keeps them.
            for attr in ("__eq__", "__repr__"):
                if attr not in namespace:
                    setattr(cls, attr, getattr(cls, attr))
        if make_init:
            dataclass(cast(type, cls))
            # dataclass() deletes the class attributes of fields that have a
            # default_factory; put the field() objects back, so that a @dataclass
            # decorator, applied after this, sees the same class definition.
            for key, value in namespace.items():
                if isinstance(value, Field) and key not in cls.__dict__:
                    setattr(cls, key, value)
            if "id" in annotations:
                # Let the read-only property show through again.
                type.__delattr__(cls, "id")
        return cls

    def __init__(
        cls,
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        *,
        created_event_name: str | None = None,
    ) -> None:
        super().__init__(name, bases, namespace)
        init = cls.__init__  # type: ignore[misc]  # the class's own initializer is wanted
        cls._init_signature = (
            _NO_INIT if init is object.__init__ else inspect.signature(init)
        )
        if any(isinstance(base, MetaAggregate) for base in bases):
            cls._define_own_event_base(bases, namespace)
        replaced = cls._adopt_event_classes(namespace)
        aggregate_class: Any = cls
        for attribute, value in list(cls.__dict__.items()):
            if isinstance(value, CommandMethodDecorator):
                value.define_event_class(
                    aggregate_class, attribute, is_setter=False, replaced=replaced
                )
            elif isinstance(value, property) and isinstance(
                value.fset, CommandMethodDecorator
            ):
                value.fset.define_event_class(
                    aggregate_class, attribute, is_setter=True, replaced=replaced
                )
        init_event = getattr(namespace.get("__init__"), INIT_EVENT_ATTRIBUTE, None)
        if init_event is not None:
            created_event_name = cls._name_from_init_event(
                init_event, created_event_name, replaced
            )
        cls._created_event_class = cls._choose_created_event_class(
            namespace, created_event_name, replaced
        )

    def _define_own_event_base(
        cls, bases: tuple[type, ...], namespace: dict[str, Any]
    ) -> None:
        """Give the class an ``Event`` of its own, the base of all its events (as
        in 9.1), unless its body defines one."""
        if "Event" in namespace:
            return
        parents = tuple(
            dict.fromkeys(
                cast(Any, base).Event
                for base in bases
                if isinstance(base, MetaAggregate)
            )
        )
        own = MetaDomainEvent(
            "Event",
            parents,
            {
                "__module__": cls.__module__,
                "__qualname__": f"{cls.__qualname__}.Event",
                "__doc__": f"Base class of the events of {cls.__name__}.",
            },
        )
        type.__setattr__(cls, "Event", own)

    def _adopt_event_classes(cls, namespace: dict[str, Any]) -> dict[type, type]:
        """Redefine the event classes of the body that do not derive from the
        class's ``Event`` (such as ``class Started(Aggregate.Created)``) so that
        they do, keeping their names and topics; returns old to new classes."""
        replaced: dict[type, type] = {}
        own: type = cast(Any, cls).Event
        for key, value in namespace.items():
            if (
                key == "Event"
                or not isinstance(value, MetaDomainEvent)
                or not issubclass(value, AggregateEvent)
                or issubclass(value, own)
                or value.__qualname__ != f"{cls.__qualname__}.{key}"
            ):
                continue
            also = tuple(replaced[b] for b in value.__bases__ if b in replaced)
            adopted = MetaDomainEvent(
                key,
                (value, *also, own),
                {
                    "__module__": value.__module__,
                    "__qualname__": value.__qualname__,
                    "__doc__": value.__doc__,
                },
            )
            type.__setattr__(cls, key, adopted)
            replaced[value] = adopted
        return replaced

    def _name_from_init_event(
        cls,
        init_event: tuple[type[AggregateEvent[Any]] | None, str | None],
        created_event_name: str | None,
        replaced: dict[type, type],
    ) -> str:
        """The created event name that ``@event`` on ``__init__`` gives."""
        event_class, event_name = init_event
        if event_class is not None:
            event_class = replaced.get(event_class, event_class)
            if event_class.__qualname__ != f"{cls.__qualname__}.{event_class.__name__}":
                type.__setattr__(cls, event_class.__name__, event_class)
            event_name = event_class.__name__
        name = event_name or created_event_name or "Created"
        if created_event_name is not None and created_event_name != name:
            msg = (
                f"{cls.__qualname__} names its created event twice, differently: "
                f"created_event_name={created_event_name!r} and @event({name!r}) on "
                "__init__; keep one of them"
            )
            raise TypeError(msg)
        return name

    def _choose_created_event_class(
        cls,
        namespace: dict[str, Any],
        created_event_name: str | None,
        replaced: dict[type, type],
    ) -> type[AggregateCreated[Any]]:
        own = {
            key: replaced.get(value, value)
            for key, value in namespace.items()
            if isinstance(value, type) and issubclass(value, AggregateCreated)
        }
        if created_event_name is not None:
            if created_event_name in own:
                return own[created_event_name]
            existing = cls.__dict__.get(created_event_name)
            if isinstance(existing, type) and issubclass(existing, AggregateCreated):
                return existing  # given to @event on __init__ from elsewhere
            return cls._define_created_event_class(created_event_name)
        if len(own) == 1:
            return next(iter(own.values()))
        if len(own) > 1:
            names = ", ".join(own)
            msg = (
                f"{cls.__qualname__} defines several created event classes ({names}):"
                " say which one creates new aggregates, for example class"
                f" {cls.__name__}(Aggregate, created_event_name={next(iter(own))!r})"
            )
            raise TypeError(msg)
        return cls._define_created_event_class("Created")

    def _define_created_event_class(cls, name: str) -> type[AggregateCreated[Any]]:
        base: type[AggregateCreated[Any]] = getattr(
            cls, "_created_event_class", AggregateCreated
        )
        params = list(cls._init_signature.parameters.values())[1:]
        if any(param.kind in _VAR_KINDS for param in params):
            if "__init__" not in cls.__dict__:
                return base
            msg = (
                f"{cls.__qualname__}.__init__() takes *args or **kwargs, so its"
                " created event cannot be defined from it: define a created event"
                " class (a subclass of Aggregate.Created) on the aggregate class"
            )
            raise TypeError(msg)
        annotations: dict[str, Any] = {}
        for param in params:
            if param.name == "id":
                continue
            if param.name in _CREATED_BASE_FIELDS:
                msg = (
                    f"{cls.__qualname__}.__init__() argument {param.name!r} clashes"
                    " with an attribute of the created event: rename it"
                )
                raise TypeError(msg)
            annotation = param.annotation
            annotations[param.name] = (
                Any if annotation is inspect.Parameter.empty else annotation
            )
        own_event: type = cast(Any, cls).Event
        created_class = MetaDomainEvent(
            name,
            (base,) if issubclass(base, own_event) else (base, own_event),
            {
                "__module__": cls.__module__,
                "__qualname__": f"{cls.__qualname__}.{name}",
                "__annotations__": annotations,
                "__doc__": f"Event that records the creation of a {cls.__name__}.",
            },
        )
        setattr(cls, name, created_class)
        return created_class  # type: ignore[return-value]  # made by MetaDomainEvent from base

    def __call__(cls: type[_T], *args: Any, **kwargs: Any) -> _T:
        """Create a new aggregate by triggering its created event."""
        meta_cls: MetaAggregate = cls  # type: ignore[assignment]  # cls is an aggregate class
        try:
            bound = meta_cls._init_signature.bind(None, *args, **kwargs)
        except TypeError as e:
            msg = f"{cls.__qualname__}(): {e}"
            raise TypeError(msg) from None
        bound.apply_defaults()
        arguments = dict(list(bound.arguments.items())[1:])
        for param in meta_cls._init_signature.parameters.values():
            if param.kind is inspect.Parameter.VAR_KEYWORD:
                arguments.update(arguments.pop(param.name))
            elif param.kind is inspect.Parameter.VAR_POSITIONAL and arguments.pop(
                param.name
            ):
                msg = (
                    f"{cls.__qualname__}() cannot record positional arguments"
                    f" for *{param.name}: pass them by keyword"
                )
                raise TypeError(msg)
        aggregate_id = arguments.pop("id", None)
        aggregate_class: type[Aggregate] = cls  # type: ignore[assignment]  # cls is an aggregate class
        return aggregate_class._create(  # type: ignore[return-value]  # an instance of cls
            meta_cls._created_event_class, id=aggregate_id, **arguments
        )


class Aggregate(metaclass=MetaAggregate):
    """Base class for aggregate roots.

    Subclasses create aggregates with ``_create()`` (or by calling the class),
    record decisions with :meth:`trigger_event` (or ``@event`` methods) and hand
    the new events to the application with :meth:`collect_events`.
    """

    INITIAL_VERSION = 1

    class Event(AggregateEvent[TAggregate]):
        """Base class for the events of an aggregate.

        Each aggregate class has an ``Event`` of its own, derived from its base
        class's, which all its events derive from, its created event included.
        """

    class Created(AggregateCreated[TAggregate], Event):
        """Event that records the creation of an aggregate."""

    @staticmethod
    def create_id(*args: Any, **kwargs: Any) -> UUID:
        """Return the ID of a new aggregate: a version 4 UUID.

        Override it to derive the ID from (some of) the creation arguments; it
        is called with those of its parameters that name creation arguments.
        """
        return uuid4()

    @classmethod
    def _create(
        cls: type[_TAggregate],
        event_class: type[AggregateCreated[Any]],
        *,
        id: UUID | None = None,
        **kwargs: Any,
    ) -> _TAggregate:
        """Create a new aggregate from a new created event of the given class.

        :param event_class: the created event class.
        :param id: the ID of the new aggregate (default: from :meth:`create_id`).
        :param kwargs: further attributes of the created event.
        """
        if id is None:
            id = cls._call_create_id(kwargs)
        created_event = event_class(
            originator_id=id,
            originator_version=cls.INITIAL_VERSION,
            timestamp=event_class.create_timestamp(),
            originator_topic=get_topic(cls),
            **kwargs,
        )
        aggregate: _TAggregate = created_event._construct_aggregate(cls)
        aggregate._pending_events.append(created_event)
        return aggregate

    @classmethod
    def _call_create_id(cls, kwargs: dict[str, Any]) -> UUID:
        parameters = inspect.signature(cls.create_id).parameters.values()
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
            return cls.create_id(**kwargs)
        names = {p.name for p in parameters if p.kind not in _VAR_KINDS}
        return cls.create_id(**{k: v for k, v in kwargs.items() if k in names})

    def __base_init__(self, id: UUID, version: int, timestamp: datetime) -> None:
        """Initialise the ID, version, timestamps and pending events of an aggregate."""
        self._id = id
        self._version = version
        self._created_on = timestamp
        self._modified_on = timestamp
        self._pending_events: list[AggregateEvent[Any]] = []

    @property
    def id(self) -> UUID:
        """The ID of the aggregate."""
        return self._id

    @property
    def version(self) -> int:
        """The version number of the aggregate."""
        return self._version

    @property
    def created_on(self) -> datetime:
        """The date and time when the aggregate was created."""
        return self._created_on

    @property
    def modified_on(self) -> datetime:
        """The date and time when the aggregate was last modified."""
        return self._modified_on

    @property
    def pending_events(self) -> list[AggregateEvent[Any]]:
        """A list of the events triggered but not yet collected."""
        return list(self._pending_events)

    def trigger_event(
        self, event_class: type[AggregateEvent[Any]], **kwargs: Any
    ) -> None:
        """Trigger an event of the given type and apply it to this aggregate.

        The event gets this aggregate's ID, the next version number, a timestamp
        later than the previous event's, and ``kwargs`` as further attributes. It
        becomes pending only if applying it succeeds.
        """
        timestamp = event_class.create_timestamp()
        if timestamp <= self._modified_on:
            # Keep the timestamps of one aggregate strictly increasing even when
            # the clock has not moved on (or has moved back) since the last event.
            timestamp = self._modified_on + timedelta(microseconds=1)
        # _id and _version rather than the properties: this is the path of every
        # command, and a property costs a call.
        new_event = event_class(
            originator_id=self._id,
            originator_version=self._version + 1,
            timestamp=timestamp,
            **kwargs,
        )
        new_event.mutate(self)
        self._pending_events.append(new_event)

    def collect_events(self) -> list[AggregateEvent[Any]]:
        """Return the pending events and forget them (the application saves them)."""
        collected, self._pending_events = self._pending_events, []
        return collected

    def __eq__(self, other: object) -> bool:
        """Aggregates are equal when of the same type and with the same state.

        Pending events are not compared.
        """
        return type(self) is type(other) and _state(self) == _state(other)

    def __repr__(self) -> str:
        """Show the class name, ID, version, timestamps and attributes."""
        attrs = ", ".join(f"{k.lstrip('_')}={v!r}" for k, v in _state(self).items())
        return f"{type(self).__name__}({attrs})"


def _state(aggregate: object) -> dict[str, Any]:
    return {k: v for k, v in aggregate.__dict__.items() if k != "_pending_events"}


@overload
def aggregate(
    cls: type[Any], *, created_event_name: str | None = None
) -> MetaAggregate: ...


@overload
def aggregate(
    cls: None = None, *, created_event_name: str | None = None
) -> Callable[[type[Any]], MetaAggregate]: ...


def aggregate(
    cls: type[Any] | None = None, *, created_event_name: str | None = None
) -> MetaAggregate | Callable[[type[Any]], MetaAggregate]:
    """Class decorator that makes the decorated class an aggregate.

    ``@aggregate`` over ``class MyAggregate: ...`` is equivalent to
    ``class MyAggregate(Aggregate): ...``; the ``created_event_name`` argument
    works as the class argument of the same name. Inheriting from
    :class:`Aggregate` is recommended, since type checkers cannot see what a
    class decorator adds.
    """

    def decorator(original: type[Any]) -> MetaAggregate:
        if isinstance(original, MetaAggregate):
            msg = f"{original.__qualname__} is already an aggregate: remove @aggregate"
            raise TypeError(msg)
        namespace = dict(original.__dict__)
        namespace.pop("__dict__", None)
        namespace.pop("__weakref__", None)
        bases = (*(b for b in original.__bases__ if b is not object), Aggregate)
        return MetaAggregate(
            original.__name__, bases, namespace, created_event_name=created_event_name
        )

    if cls is None:
        return decorator
    return decorator(cls)
