"""The ``@event`` decorator: a command method whose body applies its event."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import update_wrapper
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast, overload

from eventsourcing.domain._events import (
    AggregateCreated,
    AggregateEvent,
    MetaDomainEvent,
)

if TYPE_CHECKING:
    from eventsourcing.domain._aggregate import Aggregate

_F = TypeVar("_F", bound=Callable[..., Any])

_EVENT_BASE_FIELDS = frozenset(("originator_id", "originator_version", "timestamp"))
# What @event on __init__ leaves on the function for the aggregate's metaclass: the
# created event class or name it was given.
INIT_EVENT_ATTRIBUTE = "_eventsourcing_created_event"
_VAR_KINDS = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


class DecoratedEvent(AggregateEvent[Any]):
    """Base class of events defined by ``@event``; applied by the decorated method."""

    # A bound method, not the decorator itself: the decorator is a descriptor.
    _apply_event: ClassVar[Callable[[AggregateEvent[Any], Any], None]]

    def apply(self, aggregate: Any) -> None:
        """Apply the event by calling the method decorated by ``@event``."""
        type(self)._apply_event(self, aggregate)


class CommandMethodDecorator:
    """What ``@event`` makes of an aggregate method (see :func:`event`)."""

    def __init__(
        self,
        method: Callable[..., Any],
        event_class: type[AggregateEvent[Any]] | None = None,
        event_name: str | None = None,
    ) -> None:
        update_wrapper(self, method)
        self.method = method
        self.signature = inspect.signature(method)
        params = list(self.signature.parameters.values())
        if not params or params[0].kind in _VAR_KINDS:
            msg = f"@event cannot decorate {method.__qualname__}(): it takes no 'self'"
            raise TypeError(msg)
        self.params = params[1:]
        for param in self.params:
            if param.kind in _VAR_KINDS:
                msg = (
                    f"@event cannot decorate {method.__qualname__}(): event attributes"
                    f" are made from named arguments, not from {param}"
                )
                raise TypeError(msg)
        self.event_class = event_class
        self.event_name = event_name

    def __get__(
        self, instance: Aggregate | None, owner: type[Any] | None = None
    ) -> BoundCommandMethodDecorator | UnboundCommandMethodDecorator:
        if instance is None:
            return UnboundCommandMethodDecorator(self)
        return BoundCommandMethodDecorator(self, instance)

    def __call__(self, aggregate: Aggregate, *args: Any, **kwargs: Any) -> None:
        """Trigger the event on the given aggregate (used by property setters)."""
        self.trigger(aggregate, *args, **kwargs)

    def trigger(self, aggregate: Aggregate, *args: Any, **kwargs: Any) -> None:
        """Trigger this method's event with the given arguments as its attributes."""
        if self.event_class is None:
            msg = (
                f"{self.method.__qualname__}() is decorated with @event but its class"
                " is not an aggregate: inherit from Aggregate or use @aggregate"
            )
            raise TypeError(msg)
        try:
            bound = self.signature.bind(aggregate, *args, **kwargs)
        except TypeError as e:
            msg = f"{self.method.__qualname__}(): {e}"
            raise TypeError(msg) from None
        bound.apply_defaults()
        attributes = dict(bound.arguments)
        del attributes[next(iter(self.signature.parameters))]
        aggregate.trigger_event(self.event_class, **attributes)

    def apply_event(self, event: AggregateEvent[Any], aggregate: Any) -> None:
        """Call the decorated method with the event's attributes as arguments."""
        args = []
        kwargs = {}
        for param in self.params:
            value = getattr(event, param.name)
            if param.kind is inspect.Parameter.POSITIONAL_ONLY:
                args.append(value)
            else:
                kwargs[param.name] = value
        self.method(aggregate, *args, **kwargs)

    def define_event_class(
        self,
        aggregate_class: type[Aggregate],
        attribute: str,
        is_setter: bool,
        replaced: dict[type, type] | None = None,
    ) -> None:
        """Define or adopt the event class, once the aggregate class exists.

        ``replaced`` maps event classes of the class body to the classes the
        aggregate class redefined them as (see ``Aggregate.Event``).
        """
        given = self.event_class
        if given is not None:
            original = given
            given = (replaced or {}).get(given, given)
            self.event_class = given
            for attr in ("apply", "_apply_event"):
                if attr in given.__dict__ or attr in original.__dict__:
                    msg = (
                        f"@event({given.__qualname__}) on"
                        f" {self.method.__qualname__}(): {given.__qualname__} already"
                        f" has its own {attr}, so the method body would not apply it;"
                        " give @event an event name instead, or remove the apply()"
                    )
                    raise TypeError(msg)
            type.__setattr__(given, "apply", DecoratedEvent.apply)
            type.__setattr__(given, "_apply_event", self.apply_event)
            return
        name = self.event_name
        if name is None:
            if is_setter:
                msg = (
                    f"@event on the property setter {self.method.__qualname__}() needs"
                    " an event name, for example @event('NameUpdated')"
                )
                raise TypeError(msg)
            name = event_name_from_method_name(attribute)
        existing = aggregate_class.__dict__.get(name)
        if existing is not None:
            msg = (
                f"{aggregate_class.__qualname__} already defines {name!r}: to apply"
                f" that event class with {self.method.__qualname__}(), write"
                f" @event({name}) after its definition, or choose another name"
            )
            raise TypeError(msg)
        annotations: dict[str, Any] = {}
        for param in self.params:
            if param.name in _EVENT_BASE_FIELDS:
                msg = (
                    f"{self.method.__qualname__}() argument {param.name!r} clashes with"
                    " an attribute of every aggregate event: rename it"
                )
                raise TypeError(msg)
            annotation = param.annotation
            annotations[param.name] = (
                Any if annotation is inspect.Parameter.empty else annotation
            )
        base_event = aggregate_class.Event
        event_class = MetaDomainEvent(
            name,
            (DecoratedEvent, base_event),
            {
                "__module__": aggregate_class.__module__,
                "__qualname__": f"{aggregate_class.__qualname__}.{name}",
                "__annotations__": annotations,
                "__doc__": f"Event triggered by {self.method.__qualname__}().",
                "_apply_event": self.apply_event,
            },
        )
        setattr(aggregate_class, name, event_class)
        self.event_class = cast(type[AggregateEvent[Any]], event_class)


class UnboundCommandMethodDecorator:
    """What an ``@event`` method is when accessed on the aggregate class."""

    def __init__(self, event_decorator: CommandMethodDecorator) -> None:
        update_wrapper(self, event_decorator.method)
        self.event_decorator = event_decorator

    def __call__(self, aggregate: Aggregate, *args: Any, **kwargs: Any) -> None:
        """Trigger the event on the given aggregate."""
        self.event_decorator.trigger(aggregate, *args, **kwargs)


class BoundCommandMethodDecorator:
    """What an ``@event`` method is when accessed on an aggregate."""

    def __init__(
        self, event_decorator: CommandMethodDecorator, aggregate: Aggregate
    ) -> None:
        update_wrapper(self, event_decorator.method)
        self.event_decorator = event_decorator
        self.aggregate = aggregate

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        """Trigger the event on the aggregate."""
        self.event_decorator.trigger(self.aggregate, *args, **kwargs)


def event_name_from_method_name(method_name: str) -> str:
    """Return the event class name for a method name (``name_updated``)."""
    return "".join(part[:1].upper() + part[1:] for part in method_name.split("_"))


# An event class is callable too; the first overload wins for it, both in mypy
# and in the runtime checks of event().
@overload
def event(
    arg: str | type[AggregateEvent[Any]] | None = None,
) -> Callable[[_F], _F]: ...


@overload
def event(arg: _F) -> _F: ...


def event(
    arg: str | type[AggregateEvent[Any]] | Callable[..., Any] | None = None,
) -> Any:
    """Decorate an aggregate method so that calling it triggers an event.

    The body of the method is used to apply the event to the aggregate, both when
    the event is triggered and when the aggregate is reconstructed from stored
    events. The argument names the event class to define (``@event("NameUpdated")``),
    or gives an event class (``@event(NameUpdated)``); without one
    (``@event``), the class name comes from the method name (``name_updated`` ->
    ``NameUpdated``). Raise an exception in the body, before changing anything,
    to refuse the command: no event is then recorded.

    On ``__init__``, it names (or gives) the created event, as the class argument
    ``created_event_name`` does. Above or beneath a property's ``@<name>.setter``,
    setting the property triggers the event (an event name is then required).

    ::

        class MyAggregate(Aggregate):
            @event("NameChanged")
            def set_name(self, name: str) -> None:
                self.name = name
    """
    if arg is None:
        return _decorator_factory(None, None)
    if isinstance(arg, str):
        if not arg.isidentifier():
            msg = f"@event({arg!r}): the event name must be a valid class name"
            raise ValueError(msg)
        return _decorator_factory(None, arg)
    if isinstance(arg, type):
        if not issubclass(arg, AggregateEvent):
            msg = (
                f"@event({arg.__qualname__}): an event class must be a subclass of"
                " Aggregate.Event (AggregateEvent)"
            )
            raise TypeError(msg)
        return _decorator_factory(arg, None)
    return _decorate(arg, None, None)


triggers = event
"""An alias of :func:`event`."""


def _decorator_factory(
    event_class: type[AggregateEvent[Any]] | None, event_name: str | None
) -> Callable[[Callable[..., Any]], Any]:
    def decorator(method: Callable[..., Any]) -> Any:
        return _decorate(method, event_class, event_name)

    return decorator


def _decorate(
    method: object,
    event_class: type[AggregateEvent[Any]] | None,
    event_name: str | None,
) -> Any:
    if isinstance(method, property) and method.fset is not None:
        # @event above @<name>.setter: the setter triggers the event.
        setter = CommandMethodDecorator(method.fset, event_class, event_name)
        return property(method.fget, setter, method.fdel, method.__doc__)
    if isinstance(method, (property, staticmethod, classmethod)) or not callable(
        method
    ):
        msg = (
            f"@event decorates a plain method or a property setter, not {method!r};"
            " for a property, put @event above or beneath @<name>.setter"
        )
        raise TypeError(msg)
    if getattr(method, "__name__", None) == "__init__":
        # The created event: triggered by calling the aggregate class, applied by
        # the __init__ body, named (or given) as here.
        if event_class is not None and not issubclass(event_class, AggregateCreated):
            msg = (
                f"@event({event_class.__qualname__}) on __init__: the event of "
                "__init__ creates the aggregate, so it must be a created event class "
                "(a subclass of Aggregate.Created)"
            )
            raise TypeError(msg)
        setattr(method, INIT_EVENT_ATTRIBUTE, (event_class, event_name))
        return method
    return CommandMethodDecorator(method, event_class, event_name)
