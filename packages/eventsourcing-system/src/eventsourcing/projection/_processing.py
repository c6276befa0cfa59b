"""Processing an application's log into a view, a page of notifications to a
transaction, each transaction recording the view's position."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import (
    NestedTransactionError,
    RecordConflictError,
    Tracking,
)

from ._projection import Projection
from ._subscription import DEFAULT_PAGE_SIZE, ApplicationSubscription

__all__ = ["ProjectionProcessor"]


class ProjectionProcessor:
    """Runs one projection over the log of one application: what runners of
    projections (a thread, a system runner, a worker) have in common.

    Each page of notifications is processed in one transaction of the view, which
    records the position of its last notification; the transaction fails, and
    nothing of it is kept, if another processor of the same view recorded any of
    them first, and processing then resumes after that processor's position. So
    each notification changes the view once, however many processors run.
    """

    def __init__(
        self,
        app: Application[Any],
        projection: Projection[Any],
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        poll_interval: float | None = None,
    ) -> None:
        self.app = app
        self.projection = projection
        self.view = projection.view
        self._name = app.name
        self._recorded: int = self.view.max_tracking_id(self._name)
        self.subscription = ApplicationSubscription(
            app,
            gt=self._recorded,
            topics=projection.topics,
            page_size=page_size,
            poll_interval=poll_interval,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.projection.name!r} of {self._name!r}, at "
            f"{self._recorded})"
        )

    @property
    def position(self) -> int:
        """The position the view has recorded, as far as this processor knows."""
        return self._recorded

    def process_page(self) -> bool:
        """Processes the next page of notifications, if any; tells whether the
        log has nothing more for now."""
        subscription = self.subscription
        page, position, caught_up = subscription.read_page()
        if position <= self._recorded:
            return caught_up
        name = self._name
        last = Tracking(name, position)
        trackings = (page[0][1] if page else last, last)
        try:
            try:
                self._process(page, trackings, savepoints=False)
            except NestedTransactionError:
                # The projection caught an error of a nested transaction: again,
                # with savepoints, which undo that nested transaction alone.
                self._process(page, trackings, savepoints=True)
        except RecordConflictError:
            recorded = self.view.max_tracking_id(name)
            if recorded < trackings[0].notification_id:
                raise  # a conflict of the view's own rows, not of its position
            # Processed by another processor: go on after its position.
            self._recorded = recorded
            subscription.seek(recorded)
            return False
        self._recorded = position
        return caught_up

    def _process(
        self,
        page: list[tuple[DomainEvent[Any], Tracking]],
        trackings: tuple[Tracking, Tracking],
        *,
        savepoints: bool,
    ) -> None:
        process_event = self.projection.process_event
        # Nested transactions without savepoints, which cost a statement each
        # (on SQLite), unless the projection needs them.
        with self.view.transaction(*trackings, savepoints=savepoints):
            for domain_event, tracking in page:
                process_event(domain_event, tracking)

    def catch_up(self) -> None:
        """Processes pages until the log has nothing more for now."""
        while not self.process_page():
            pass

    def run(self) -> None:
        """Processes pages, waiting for new notifications when caught up, until
        :meth:`stop` is called (from another thread)."""
        subscription = self.subscription
        while not subscription.is_stopped:
            if self.process_page():
                subscription.wait()

    def stop(self) -> None:
        """Makes :meth:`run` return (after the page it is processing)."""
        self.subscription.stop()

    def close(self) -> None:
        """Releases the subscription's wake-up."""
        self.subscription.close()
