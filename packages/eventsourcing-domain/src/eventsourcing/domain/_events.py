"""Domain events: immutable records of decisions, frozen dataclasses by metaclass."""

from __future__ import annotations

from abc import ABCMeta
from collections.abc import Mapping
from dataclasses import FrozenInstanceError, dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Generic, cast, dataclass_transform
from uuid import UUID

import eventsourcing.domain as _domain
from eventsourcing.utils import resolve_stored_topic, resolve_topic

if TYPE_CHECKING:
    # A default (PEP 696) lets type checkers read a bare ``Aggregate.Event`` as
    # ``Aggregate.Event[Any]``, so documented code that writes no subscript needs
    # none under --strict either; only checkers see typing_extensions.
    from typing_extensions import TypeVar

    from eventsourcing.domain._aggregate import Aggregate

    TAggregate = TypeVar("TAggregate", bound="Aggregate", default=Any)
else:
    from typing import TypeVar

    TAggregate = TypeVar("TAggregate", bound="Aggregate")


class VersionError(Exception):
    """Raised when an event is not the next one in its aggregate's sequence."""


class OriginatorVersionError(VersionError):
    """Raised when an event's originator version is not the aggregate's next
    version (``except VersionError`` catches it too)."""


class OriginatorIDError(Exception):
    """Raised when an event is applied to an aggregate other than its originator."""


def tzinfo_from_env(environ: Mapping[str, str]) -> tzinfo:
    """Return the time zone whose topic is in ``TZINFO_TOPIC``, or UTC when unset."""
    topic = environ.get("TZINFO_TOPIC", "")
    if not topic:
        return UTC
    tz = resolve_topic(topic)
    if not isinstance(tz, tzinfo):
        msg = (
            f"TZINFO_TOPIC={topic!r} resolves to {tz!r}, which is not a"
            " datetime.tzinfo object (try 'datetime:timezone.utc')"
        )
        raise TypeError(msg)
    return tz


def create_timestamp() -> datetime:
    """Return the current time, aware of the time zone :data:`TZINFO`."""
    tz: tzinfo = _domain.TZINFO
    return datetime.now(tz=tz)


@dataclass_transform(frozen_default=True)
class MetaDomainEvent(ABCMeta):
    """Metaclass that makes every domain event class a frozen dataclass.

    Annotations on an event class are enough to define its attributes; no
    ``@dataclass`` decorator is needed.
    """

    def __new__(
        mcs, name: str, bases: tuple[type, ...], cls_dict: dict[str, Any]
    ) -> MetaDomainEvent:
        cls = super().__new__(mcs, name, bases, cls_dict)
        dataclass(frozen=True)(cast(type, cls))
        # Frozen by one inherited __setattr__ that refuses every assignment,
        # rather than one generated per class: a class then has none of its own,
        # so @dataclass(frozen=True) above it (as 9.1 code writes) still works.
        is_root = not any(isinstance(base, MetaDomainEvent) for base in bases)
        for attr, frozen in (
            ("__setattr__", _refuse_set),
            ("__delattr__", _refuse_del),
        ):
            if is_root:
                type.__setattr__(cls, attr, frozen)
            else:
                type.__delattr__(cls, attr)
            # A base that @dataclass(frozen=True) decorated got generated methods
            # that refuse only its own fields: make it refuse all of them.
            for base in cls.__mro__[1:]:
                generated = base.__dict__.get(attr, frozen)
                if isinstance(base, MetaDomainEvent) and generated is not frozen:
                    type.__setattr__(base, attr, frozen)
        return cls

    def __getitem__(cls, item: Any) -> Any:
        """Subscript a generic event class; a class that is not generic accepts a
        subscript too, as in 9.1 code (``MyAggregate.Event["MyAggregate"]``), and
        it then means the class itself."""
        generic: Any = cls
        if generic.__parameters__:
            return generic.__class_getitem__(item)
        return cls


def _refuse_set(self: object, name: str, value: object) -> None:
    msg = f"cannot assign to field {name!r}: domain events are immutable"
    raise FrozenInstanceError(msg)


def _refuse_del(self: object, name: str) -> None:
    msg = f"cannot delete field {name!r}: domain events are immutable"
    raise FrozenInstanceError(msg)


class DomainEvent(Generic[TAggregate], metaclass=MetaDomainEvent):
    """Base class for domain events, such as aggregate events and snapshots.

    :param originator_id: ID of the originating aggregate.
    :param originator_version: version of the originating aggregate.
    :param timestamp: date-time of the event.
    """

    originator_id: UUID
    originator_version: int
    timestamp: datetime

    @staticmethod
    def create_timestamp() -> datetime:
        """Return a timestamp for a new event (timezone aware, see ``TZINFO``)."""
        return create_timestamp()


class AggregateEvent(DomainEvent[TAggregate]):
    """Base class for aggregate events, which model decisions made by aggregates."""

    def mutate(self, aggregate: TAggregate | None) -> TAggregate | None:
        """Apply this event to the aggregate and return it.

        Checks the event belongs to the aggregate (else raises
        :class:`OriginatorIDError`) and is the next in its sequence (else raises
        :class:`OriginatorVersionError`, a :class:`VersionError`), calls
        :meth:`apply`, and only then advances the aggregate's version and modified
        time, so an exception in ``apply()`` leaves the aggregate unchanged.
        """
        if aggregate is None:
            msg = (
                f"{type(self).__qualname__}.mutate() needs the aggregate to change;"
                " only a 'created' event can start from None"
            )
            raise TypeError(msg)
        # _id and _version rather than the properties (which cost a call each):
        # this is the path of every command, and the end sets _version anyway.
        aggregate_id = aggregate._id
        # The same ID object, as when the aggregate triggered the event, is the
        # usual case: it spares a call of UUID.__eq__().
        if (
            self.originator_id is not aggregate_id
            and self.originator_id != aggregate_id
        ):
            msg = (
                f"{type(self).__qualname__} of originator {self.originator_id} cannot"
                f" be applied to {type(aggregate).__qualname__} {aggregate_id}"
            )
            raise OriginatorIDError(msg)
        next_version = aggregate._version + 1
        if self.originator_version != next_version:
            msg = (
                f"{type(self).__qualname__} has originator_version"
                f" {self.originator_version} but the next version of"
                f" {type(aggregate).__qualname__} {aggregate.id} is {next_version}"
            )
            raise OriginatorVersionError(msg)
        self.apply(aggregate)
        aggregate._version = self.originator_version
        aggregate._modified_on = self.timestamp
        return aggregate

    def apply(self, aggregate: TAggregate) -> None:
        """Apply the domain event to the aggregate (override in subclasses)."""


class AggregateCreated(AggregateEvent[TAggregate]):
    """Domain event for when an aggregate is created.

    :param originator_topic: topic of the aggregate class.
    """

    originator_topic: str

    def mutate(self, aggregate: TAggregate | None) -> TAggregate:
        """Construct the aggregate this event describes (``aggregate`` is ignored)."""
        from eventsourcing.domain._aggregate import Aggregate

        aggregate_class = resolve_stored_topic(self.originator_topic, Aggregate)
        return self._construct_aggregate(aggregate_class)  # type: ignore[arg-type]  # an Aggregate subclass, as TAggregate is

    def _construct_aggregate(self, aggregate_class: type[TAggregate]) -> TAggregate:
        # Aggregate._create() comes here directly, with the class in hand, so that
        # aggregate classes whose topics do not resolve (defined in a function)
        # can still create aggregates.
        new = object.__new__(aggregate_class)
        new.__base_init__(self.originator_id, self.originator_version, self.timestamp)
        kwargs = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in _CREATED_BASE_FIELDS
        }
        if "id" in aggregate_class._init_signature.parameters:
            kwargs["id"] = self.originator_id
        new.__init__(**kwargs)  # type: ignore[misc]  # __init__ of the aggregate class
        return new


_CREATED_BASE_FIELDS = frozenset(
    ("originator_id", "originator_version", "timestamp", "originator_topic")
)
