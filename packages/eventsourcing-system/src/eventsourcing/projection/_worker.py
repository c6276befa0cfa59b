"""Projection workers: one projection run in this process until it is told to
stop, by one worker at a time, which holds the projection's lease in the
database of its view while others wait to take over."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from eventsourcing.application import Application
from eventsourcing.persistence import (
    InfrastructureFactory,
    InterfaceError,
    OperationalError,
    PersistenceError,
    TrackingRecorder,
    holder_identity,
)
from eventsourcing.system._signals import run_until_stopped
from eventsourcing.system._worker import (
    DEFAULT_LEASE_INTERVAL,
    DEFAULT_POLL_INTERVAL,
    WORKER_LEASE_INTERVAL,
    WORKER_POLL_INTERVAL,
    seconds_setting,
)

from ._processing import ProjectionProcessor
from ._projection import Projection, _construct_view, check_projection_class
from ._subscription import DEFAULT_PAGE_SIZE

if TYPE_CHECKING:
    from eventsourcing.persistence import Leases

__all__ = ["ProjectionWorker", "projection_lease"]

logger = logging.getLogger("eventsourcing.projection")

TApplication = TypeVar("TApplication", bound=Application[Any])
TView = TypeVar("TView", bound=TrackingRecorder)

# How long a wait for new notifications lasts at most, so that stopping is quick
# with wake-ups that a stop cannot interrupt (PostgreSQL's).
_WAIT_SLICE = 0.25


def projection_lease(projection_name: str, application_name: str) -> str:
    """The lease held by the worker that runs a projection of an application."""
    return f"{projection_name}/projection/{application_name}"


class ProjectionWorker(Generic[TApplication, TView]):
    """Runs a projection of an application's events into a view in this process
    (what :class:`ProjectionRunner` does in a thread), until :meth:`stop`, or
    SIGTERM or SIGINT when :meth:`run` handles signals.

    The application and the view are constructed as by :class:`ProjectionRunner`.
    Only the worker that holds the projection's lease (taken from the view's
    infrastructure factory, where the view's position is) processes; other
    workers of the same projection wait, and take over when it stops or dies.
    Settings, which may be prefixed with the projection's name:
    "WORKER_POLL_INTERVAL" (seconds between looks at the log however quiet it
    is, default 1) and "WORKER_LEASE_INTERVAL" (seconds between checks of the
    lease, which bounds how long a dead worker's projection waits to be taken
    over, default 1).

    .. versionadded:: 9.1.0
    """

    def __init__(
        self,
        application_class: type[TApplication] | TApplication,
        projection_class: type[Projection[TView]],
        view_class: Callable[..., TView],
        env: Mapping[str, str] | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        check_projection_class(projection_class)
        self.application_class = application_class
        self.projection_class = projection_class
        self.view_class = view_class
        self.env = env
        self.page_size = page_size
        self.name = projection_class.name
        self.identity = holder_identity()
        self.ready = threading.Event()
        """Set once the worker runs (holding the lease or waiting for it), and
        cleared when it stops."""
        self.holding = threading.Event()
        """Set while the worker holds the projection's lease and processes."""
        self.poll_interval = DEFAULT_POLL_INTERVAL
        """Seconds between looks at the log (read from the settings when it
        runs)."""
        self.lease_interval = DEFAULT_LEASE_INTERVAL
        """Seconds between checks of the lease (read from the settings when it
        runs)."""
        self._stopping = threading.Event()
        self._processor: ProjectionProcessor | None = None
        self._failures = 0
        self._ran = False

    # Set by run(), for as long as it runs.
    _app: Application[Any]
    _view: TView
    _factory: InfrastructureFactory
    _leases: Leases
    _lease: str

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.identity!r})"

    @property
    def app(self) -> TApplication | None:
        """The application whose log is projected, while :meth:`run` runs."""
        return self.__dict__.get("_app")

    @property
    def view(self) -> TView | None:
        """The view, while :meth:`run` runs."""
        return self.__dict__.get("_view")

    # Running and stopping.

    def stop(self) -> None:
        """Asks the worker to stop: it records what it processed of the page in
        hand, gives up its lease and returns from :meth:`run`. Safe from any
        thread."""
        self._stopping.set()
        processor = self._processor
        if processor is not None:
            processor.stop()

    _signal_note = "recording what it processed"

    def _who(self) -> tuple[str, str]:
        return self.identity, self.name

    def run(self, *, handle_signals: bool | None = None) -> None:
        """Runs the worker until :meth:`stop`. With ``handle_signals`` (by
        default, when called in the main thread), SIGTERM and SIGINT stop it;
        a second SIGINT interrupts it at once."""
        run_until_stopped(self, handle_signals, logger, self._signal_note)

    def _describe(self) -> str:
        return "Projection worker {} of {}".format(*self._who())

    def _start(self) -> None:
        if isinstance(self.application_class, Application):
            self._app = self.application_class
        else:
            self._app = self.application_class(env=self.env)
        self._view, self._factory = _construct_view(
            self.projection_class, self.view_class, self.env
        )
        self.poll_interval = seconds_setting(
            self._factory, WORKER_POLL_INTERVAL, DEFAULT_POLL_INTERVAL
        )
        self.lease_interval = seconds_setting(
            self._factory, WORKER_LEASE_INTERVAL, DEFAULT_LEASE_INTERVAL
        )
        self._lease = projection_lease(self.name, self._app.name)
        self._leases = self._factory.leases()
        logger.info(
            "Projection worker %s runs %s of %s, at notification %d",
            *self._who(),
            self._app.name,
            self._view.max_tracking_id(self._app.name),
        )
        self.ready.set()

    def _loop(self) -> None:
        stopping = self._stopping
        waiting = False
        while not stopping.is_set():
            next_round = time.monotonic() + self.lease_interval
            if not self._holds_lease():
                if not waiting:
                    holder = self._leases.holder(self._lease) or "another worker"
                    logger.info(
                        "Projection worker %s of %s waits: %s holds %r",
                        *self._who(),
                        holder,
                        self._lease,
                    )
                waiting = True
                stopping.wait(self.lease_interval)
                continue
            waiting = False
            self._process_until(next_round)

    def _holds_lease(self) -> bool:
        """Checks the lease (taking it if it is free); a worker that lost it
        stops processing until it holds it again."""
        leases = self._leases
        try:
            if self.holding.is_set() and self._lease not in leases.held():
                self._log_change("lost", logging.WARNING)
                self.holding.clear()
                self._drop_processor()
            if leases.try_acquire(self._lease) and not self.holding.is_set():
                self._log_change("acquired")
                self.holding.set()
        except PersistenceError as error:
            # Processing goes on meanwhile: were the lease lost, another worker's
            # commits would conflict with this one's, which would record nothing.
            logger.warning(
                "Projection worker %s of %s could not check its lease (%s); it "
                "tries again in %g seconds",
                *self._who(),
                error,
                self.lease_interval,
            )
        return self.holding.is_set()

    def _process_until(self, deadline: float) -> None:
        """Processes what is new, and waits for more, until ``deadline``."""
        stopping = self._stopping
        while not stopping.is_set() and time.monotonic() < deadline:
            try:
                processor = self._processor
                if processor is None:
                    processor = self._processor = ProjectionProcessor(
                        self._app,
                        self.projection_class(self._view),
                        page_size=self.page_size,
                        poll_interval=self.poll_interval,
                    )
                    if stopping.is_set():
                        processor.stop()  # stopped while it was made
                caught_up = processor.process_page()
            except (OperationalError, InterfaceError) as error:
                # The view's position is read again by a new processor, in case
                # the failed commit went through after all.
                self._drop_processor()
                self._failures += 1
                delay = min(self.poll_interval, 0.05 * 2**self._failures)
                logger.warning(
                    "Projection worker %s of %s could not process the log (%s); "
                    "trying again in %.2g seconds",
                    *self._who(),
                    error,
                    delay,
                )
                stopping.wait(delay)
                continue
            self._failures = 0
            if caught_up:
                next_poll = time.monotonic() + self.poll_interval
                self._wait(processor, min(deadline, next_poll))

    def _wait(self, processor: ProjectionProcessor, until: float) -> None:
        """Waits until new notifications may have been committed, or ``until``."""
        subscription = processor.subscription
        while not self._stopping.is_set():
            remaining = until - time.monotonic()
            if remaining <= 0 or subscription.wait(min(remaining, _WAIT_SLICE)):
                return

    def _drop_processor(self) -> None:
        processor, self._processor = self._processor, None
        if processor is not None:
            with contextlib.suppress(PersistenceError):
                processor.close()

    def _log_change(self, change: str, level: int = logging.INFO) -> None:
        logger.log(
            level,
            "Projection worker %s of %s %s its lease",
            *self._who(),
            change,
            extra={
                "lease_change": change,
                "worker": self.identity,
                "projection": self.name,
                "app": self._app.name,
            },
        )

    def _shutdown(self) -> None:
        self._stopping.set()
        self._close()
        logger.info("Projection worker %s of %s stopped", *self._who())

    def _close(self) -> None:
        self.ready.clear()
        self._drop_processor()
        leases: Leases | None = self.__dict__.pop("_leases", None)
        if leases is not None:
            if self.holding.is_set():
                self._log_change("released")
                self.holding.clear()
            with contextlib.suppress(PersistenceError):
                leases.close()
        factory: InfrastructureFactory | None = self.__dict__.pop("_factory", None)
        self.__dict__.pop("_view", None)
        if factory is not None:
            factory.close()
        app: Application[Any] | None = self.__dict__.pop("_app", None)
        if app is not None and app is not self.application_class:
            app.close()
