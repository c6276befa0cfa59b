"""Running a projection on its own: the application, the view, and a thread that
keeps the view in step with the application's log."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from eventsourcing.application import Application
from eventsourcing.persistence import TrackingRecorder, WaitInterruptedError

from ._processing import ProjectionProcessor
from ._projection import Projection, _construct_view
from ._subscription import DEFAULT_PAGE_SIZE

__all__ = ["ProjectionFailed", "ProjectionRunner", "ProjectionThread"]

TApplication = TypeVar("TApplication", bound=Application[Any])
TView = TypeVar("TView", bound=TrackingRecorder)


class ProjectionFailed(Exception):
    """Raised by the runner of a projection that stopped because of an error (for
    example one raised by its :meth:`~Projection.process_event`); the error is
    chained as ``__cause__``.

    .. versionadded:: 9.1.0
    """

    def __init__(self, message: str, projection_name: str) -> None:
        super().__init__(message)
        self.projection_name = projection_name


class ProjectionThread(threading.Thread):
    """Runs a :class:`ProjectionProcessor` until stopped, keeping the error that
    stops it, if any, in ``error`` (and setting ``failed``)."""

    def __init__(self, processor: ProjectionProcessor) -> None:
        name = processor.projection.name
        super().__init__(name=f"eventsourcing-projection-{name}", daemon=True)
        self.processor = processor
        self.error: BaseException | None = None
        self.failed = threading.Event()
        self.reported = False

    def run(self) -> None:
        try:
            self.processor.run()
        except BaseException as error:
            self.error = error
            self.failed.set()

    def stop(self) -> None:
        """Stops the processor and waits for the thread to end."""
        self.processor.stop()
        if self.is_alive():
            self.join()

    def raise_error(self, *, only_unreported: bool = False) -> None:
        """Raises :class:`ProjectionFailed` if the processor stopped because of an
        error (once, with ``only_unreported``)."""
        error = self.error
        if error is None or (only_unreported and self.reported):
            return
        self.reported = True
        name = self.processor.projection.name
        msg = (
            f"Projection {name!r} stopped because of an error: {error!r}. Its view "
            "records its position in the transaction of each page it processes, so "
            "after fixing the cause, start a runner again to resume"
        )
        raise ProjectionFailed(msg, name) from error


class ProjectionRunner(Generic[TApplication, TView]):
    """Runs a projection of an application's events into a view, in a thread.

    Constructs the application (``application_class(env=env)``, or uses the
    application given instead of a class), the view (see
    :func:`construct_view`) and the projection; :meth:`start` starts the thread,
    which processes what the log holds, then each notification as soon as it is
    committed; :meth:`wait` gives read-your-writes. As a context manager it is
    started, and at the end stopped and closed.

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
        poll_interval: float | None = None,
    ) -> None:
        self.page_size = page_size
        self.poll_interval = poll_interval
        if isinstance(application_class, Application):
            self.app = application_class
            self._owns_app = False
        else:
            self.app = application_class(env=env)
            self._owns_app = True
        try:
            self.view, self._view_factory = _construct_view(
                projection_class, view_class, env
            )
        except BaseException:
            self._close_app()
            raise
        self.projection = projection_class(self.view)
        self._thread: ProjectionThread | None = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.app.name!r}, {self.projection.name!r}, "
            f"{'started' if self.is_started else 'not started'})"
        )

    @property
    def is_started(self) -> bool:
        """Whether the runner was started and not stopped."""
        return self._thread is not None

    def start(self) -> None:
        """Starts the thread that processes the application's log into the view,
        from the view's position."""
        if self._thread is not None:
            msg = f"{self!r} is already started: stop() it before starting it again"
            raise RuntimeError(msg)
        processor = ProjectionProcessor(
            self.app,
            self.projection,
            page_size=self.page_size,
            poll_interval=self.poll_interval,
        )
        self._thread = ProjectionThread(processor)
        self._thread.start()

    def stop(self) -> None:
        """Stops the thread (after the event in hand, recording what it processed
        of its page) and waits for it;
        raises :class:`ProjectionFailed` if it had stopped because of an error
        that was not raised already."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        thread.stop()
        thread.processor.close()
        thread.raise_error(only_unreported=True)

    def close(self) -> None:
        """Stops the runner, and closes the view's database connections (and the
        application's, if the runner constructed it)."""
        try:
            self.stop()
        finally:
            self._view_factory.close()
            self._close_app()

    def _close_app(self) -> None:
        if self._owns_app:
            self.app.close()

    def wait(self, notification_id: int, timeout: float = 1.0) -> None:
        """Blocks until the view has processed the application's notification
        ``notification_id`` (as
        :meth:`~eventsourcing.persistence.TrackingRecorder.wait`); raises
        :class:`ProjectionFailed` at once if the runner stops because of an error,
        and :class:`TimeoutError` if the view is not there within ``timeout``
        seconds."""
        thread = self._thread
        if thread is None:
            msg = f"{self!r}: start() it before waiting for its view"
            raise RuntimeError(msg)
        thread.raise_error()
        try:
            self.view.wait(
                self.app.name, notification_id, timeout, interrupt=thread.failed
            )
        except WaitInterruptedError:
            thread.raise_error()  # raises: only the thread's failure interrupts

    def run_forever(self, timeout: float | None = None) -> None:
        """Starts the runner unless it is started, then blocks until it stops
        because of an error, which is raised as :class:`ProjectionFailed`, or
        until ``timeout`` seconds have passed (``None``: no limit)."""
        if self._thread is None:
            self.start()
        assert self._thread is not None
        self._thread.failed.wait(timeout)
        self._thread.raise_error()

    def __enter__(self) -> Self:
        if self._thread is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
