"""The projections of a system runner: added before it starts, then run in the
runner's thread when an application prompts it (single-threaded), or each in a
thread of its own, woken by commits (multi-threaded)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from time import monotonic
from typing import Any, TypeVar

from eventsourcing.application import Application
from eventsourcing.persistence import (
    InfrastructureFactory,
    TrackingRecorder,
    WaitInterruptedError,
)

from ._processing import ProjectionProcessor
from ._projection import Projection, _construct_view, check_projection_class
from ._runner import ProjectionThread

__all__ = ["RunnerProjections"]

TView = TypeVar("TView", bound=TrackingRecorder)

_Spec = tuple[str, type[Projection[Any]], Callable[..., TrackingRecorder]]


class RunnerProjections:
    """The projections of one system runner, and what runs them."""

    def __init__(self) -> None:
        # Projection name -> (application name, projection class, view class).
        self._specs: dict[str, _Spec] = {}
        self._views: dict[str, TrackingRecorder] = {}
        self._factories: list[InfrastructureFactory] = []
        # Application name -> its processors, run on prompts (single-threaded).
        self._processors: dict[str, list[ProjectionProcessor]] = {}
        # Projection name -> its thread (multi-threaded).
        self._threads: dict[str, ProjectionThread] = {}
        # Threads stopped since the last start, whose errors may be unreported.
        self._stopped: list[ProjectionThread] = []

    @property
    def application_names(self) -> list[str]:
        """Names of the applications whose logs projections read."""
        return list(dict.fromkeys(name for name, _, _ in self._specs.values()))

    def add(
        self,
        nodes: Mapping[str, type[Application[Any]]],
        application_class: type[Application[Any]],
        projection_class: type[Projection[TView]],
        view_class: Callable[..., TView],
        *,
        started: bool,
    ) -> None:
        """Adds a projection of the events of one application of the system."""
        if started:
            msg = "add_projection() is called before start(): stop the runner first"
            raise RuntimeError(msg)
        name = getattr(application_class, "name", None)
        if not isinstance(name, str) or nodes.get(name) is not application_class:
            msg = (
                f"{application_class!r:.100} is not an application of the system "
                f"(applications: {', '.join(nodes)})"
            )
            raise ValueError(msg)
        check_projection_class(projection_class)
        if projection_class.name in self._specs:
            msg = (
                f"A projection named {projection_class.name!r} was added already: "
                "give the other one another name (the class attribute 'name')"
            )
            raise ValueError(msg)
        self._specs[projection_class.name] = (name, projection_class, view_class)

    def start(
        self,
        apps: Mapping[str, Application[Any]],
        env: Mapping[str, str] | None,
        *,
        threaded: bool,
    ) -> None:
        """Constructs the views and processors; with ``threaded``, starts a thread
        for each."""
        self._stopped = []
        for projection_name, (
            app_name,
            projection_class,
            view_class,
        ) in self._specs.items():
            view, factory = _construct_view(projection_class, view_class, env)
            self._factories.append(factory)
            self._views[projection_name] = view
            processor = ProjectionProcessor(apps[app_name], projection_class(view))
            if threaded:
                thread = self._threads[projection_name] = ProjectionThread(processor)
                thread.start()
            else:
                self._processors.setdefault(app_name, []).append(processor)

    def prompt(self, application_name: str) -> None:
        """Has the projections of the application process what is new."""
        for processor in self._processors.get(application_name, ()):
            processor.catch_up()

    def view(self, projection_class: type[Projection[TView]]) -> TView:
        """The view of the added projection, once the runner has started."""
        view = self._views.get(getattr(projection_class, "name", ""))
        if view is None:
            msg = (
                f"No view of {projection_class!r:.100}: add_projection() it before "
                "start(), and start() the runner"
            )
            raise ValueError(msg)
        return view  # type: ignore[return-value]  # added with this projection class

    def raise_errors(self, *, only_unreported: bool) -> None:
        """Raises :class:`ProjectionFailed` for a thread stopped by an error."""
        for thread in [*self._threads.values(), *self._stopped]:
            thread.raise_error(only_unreported=only_unreported)

    def wait(self, apps: Mapping[str, Application[Any]], deadline: float) -> None:
        """Blocks until each threaded projection has processed its application's
        log up to now, or raises :class:`TimeoutError` at ``deadline``."""
        for projection_name, thread in self._threads.items():
            app = apps[self._specs[projection_name][0]]
            try:
                self._views[projection_name].wait(
                    app.name,
                    app.recorder.max_notification_id(),
                    max(deadline - monotonic(), 0.0),
                    interrupt=thread.failed,
                )
            except WaitInterruptedError:
                thread.raise_error()  # raises: only the thread's failure interrupts

    def stop(self) -> None:
        """Stops the threads, and closes the views' connections."""
        threads, self._threads = self._threads, {}
        self._stopped.extend(threads.values())
        processors, self._processors = self._processors, {}
        try:
            for thread in threads.values():
                thread.stop()
            for thread in threads.values():
                thread.processor.close()
            for app_processors in processors.values():
                for processor in app_processors:
                    processor.close()
        finally:
            factories, self._factories = self._factories, []
            self._views = {}
            for factory in factories:
                factory.close()
