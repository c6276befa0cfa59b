"""Processing an application's log into a view, a page of notifications to a
transaction, each transaction recording the view's position."""

from __future__ import annotations

import threading
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
        self._stopping = threading.Event()
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
        log has nothing more for now (or the processor was stopped)."""
        if self._stopping.is_set():
            return True
        subscription = self.subscription
        page, position, caught_up = subscription.read_page()
        if position <= self._recorded:
            return caught_up
        name = self._name
        last = Tracking(name, position)
        first = page[0][1] if page else last
        try:
            try:
                last = self._process(page, first, last, savepoints=False)
            except NestedTransactionError:
                # The projection caught an error of a nested transaction: again,
                # with savepoints, which undo that nested transaction alone.
                last = self._process(page, first, last, savepoints=True)
        except RecordConflictError:
            recorded = self.view.max_tracking_id(name)
            if recorded < first.notification_id:
                raise  # a conflict of the view's own rows, not of its position
            # Processed by another processor: go on after its position.
            self._recorded = recorded
            subscription.seek(recorded)
            return False
        if last.notification_id < position:
            # Stopped with the page in hand: what was processed is recorded.
            subscription.seek(last.notification_id)
            position = last.notification_id
            caught_up = False
        self._recorded = position
        return caught_up

    def _process(
        self,
        page: list[tuple[DomainEvent[Any], Tracking]],
        first: Tracking,
        last: Tracking,
        *,
        savepoints: bool,
    ) -> Tracking:
        """Processes the page in one transaction that records the position of
        ``last``, or of the event in hand when the processor is stopped."""
        process_event = self.projection.process_event
        is_stopped = self._stopping.is_set
        view = self.view
        # Nested transactions without savepoints, which cost a statement each
        # (on SQLite), unless the projection needs them.
        with view.transaction(first, savepoints=savepoints):
            for domain_event, tracking in page:
                process_event(domain_event, tracking)
                if is_stopped():
                    last = tracking
                    break
            # Joins the transaction: its position moves to the last one.
            with view.transaction(last, savepoints=False):
                pass
        return last

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
        """Makes :meth:`run` return, and a page being processed end after the
        event in hand (what was processed of it is recorded). Safe from any
        thread."""
        self._stopping.set()
        self.subscription.stop()

    def close(self) -> None:
        """Releases the subscription's wake-up."""
        self.subscription.close()
