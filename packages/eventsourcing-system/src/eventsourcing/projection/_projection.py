"""Projections: what an application's events make of a view, a read model that
answers queries the aggregates cannot answer cheaply."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from eventsourcing.persistence import (
    Environment,
    InfrastructureFactory,
    Tracking,
    TrackingRecorder,
)

__all__ = ["Projection", "construct_view"]

TView = TypeVar("TView", bound=TrackingRecorder)

if TYPE_CHECKING:
    from eventsourcing.domain import DomainEvent


class Projection(ABC, Generic[TView]):
    """Base class of projections: :meth:`process_event` changes the view for each
    domain event of the application the projection follows.

    A runner calls :meth:`process_event` inside a transaction of the view (its
    :meth:`~eventsourcing.persistence.TrackingRecorder.transaction`) that also
    records the position of the event's notification, several events to a
    transaction while catching up; the view's own transactions, opened by the
    projection or by the view's methods, join it. So whatever the projection
    does to the view commits with the position, or not at all.

    ``name`` (by default the class name) names the view's tables and prefixes
    the environment variables of its database ("NAME_SQLITE_DBNAME"); give a new
    version of a projection another name to rebuild it beside the old one.
    ``topics`` (event classes or topics) selects the events the projection gets;
    the others are passed over without being read. The notifications passed over
    still move the position, so that
    :meth:`~eventsourcing.persistence.TrackingRecorder.wait` returns for them too.

    .. versionadded:: 9.1.0
    """

    name: ClassVar[str] = "Projection"
    topics: ClassVar[Sequence[str | type]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__

    def __init__(self, view: TView) -> None:
        self.view = view

    @abstractmethod
    def process_event(self, domain_event: DomainEvent[Any], tracking: Tracking) -> None:
        """Changes the view for one domain event (``tracking`` is the position of
        its notification, recorded by the runner).

        Exceptions stop the runner, and nothing of the transaction is kept, so
        the event is processed again when a runner resumes; a page is also
        processed again if the projection catches the error of a nested
        transaction. So change nothing but the view here. Do not catch the
        database's errors either, except those of a nested
        ``view.transaction()``, which is then undone alone: in PostgreSQL a
        failed statement fails its whole transaction.
        """


def construct_view(
    projection_class: type[Projection[TView]],
    view_class: Callable[..., TView],
    env: Mapping[str, str] | None = None,
) -> TView:
    """Constructs the view of a projection from the environment (``os.environ``
    overlaid by ``env``), through the infrastructure factory of the projection's
    name: a process that only queries the view uses this too.

    ``view_class`` is a view for the backend the environment chooses, or an
    interface (an abstract view) of which that backend has one implementation.

    .. versionadded:: 9.1.0
    """
    view, _ = _construct_view(projection_class, view_class, env)
    return view


def check_projection_class(projection_class: object) -> None:
    """Refuses anything but a :class:`Projection` subclass, with the fix."""
    if not (
        isinstance(projection_class, type) and issubclass(projection_class, Projection)
    ):
        msg = (
            f"{projection_class!r:.100} is not a projection class: derive it from "
            "eventsourcing.projection.Projection and implement process_event()"
        )
        raise TypeError(msg)


def _construct_view(
    projection_class: type[Projection[TView]],
    view_class: Callable[..., TView],
    env: Mapping[str, str] | None,
) -> tuple[TView, InfrastructureFactory]:
    check_projection_class(projection_class)
    environment = Environment(os.environ)
    if env is not None:
        environment.update(env)
    factory = InfrastructureFactory.construct(projection_class.name, env=environment)
    try:
        view = factory.tracking_recorder(view_class)
    except BaseException:
        factory.close()
        raise
    return view, factory
