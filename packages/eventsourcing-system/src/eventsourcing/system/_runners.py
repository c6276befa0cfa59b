"""Runners construct the applications of a system, make followers follow their
leaders, and deliver prompts, in one thread or in a thread per follower."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping
from time import monotonic
from typing import Any, TypeVar, cast

from eventsourcing.application import Application
from eventsourcing.persistence import TrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.projection._system import RunnerProjections

from ._application import Follower, Leader, Promptable
from ._definition import System

A = TypeVar("A", bound=Application)
TView = TypeVar("TView", bound=TrackingRecorder)

logger = logging.getLogger("eventsourcing.system")


class RunnerAlreadyStarted(Exception):
    """Raised when a runner is started a second time."""


class RunnerNotStarted(Exception):
    """Raised when the applications of a runner are requested before it started."""


class FollowerFailed(Exception):
    """Raised by a :class:`MultiThreadedRunner` when a follower stopped because of
    an error (for example one raised by its policy); the error is chained as
    ``__cause__``."""

    def __init__(self, message: str, app_name: str) -> None:
        super().__init__(message)
        self.app_name = app_name


class Runner(ABC):
    """Abstract base class for system runners.

    ``env`` is passed to the constructor of each application; variables prefixed
    with an application's upper-cased name configure only that application.
    """

    def __init__(self, system: System, env: Mapping[str, str] | None = None) -> None:
        self.system = system
        self.env = env
        self.is_started = False
        self.apps: dict[str, Application] = {}
        self.projections = RunnerProjections()

    def add_projection(
        self,
        application_class: type[Application[Any]],
        projection_class: type[Projection[TView]],
        view_class: Callable[..., TView],
    ) -> None:
        """Adds a projection of the events of one of the system's applications to
        a view (an instance of ``view_class``, or of its implementation for the
        backend the environment chooses for the projection), run by the runner
        once started; :meth:`get_view` returns the view.

        .. versionadded:: 9.1.0
        """
        self.projections.add(
            self.system.nodes,
            application_class,
            projection_class,
            view_class,
            started=self.is_started,
        )

    def get_view(self, projection_class: type[Projection[TView]]) -> TView:
        """Returns the view of a projection added with :meth:`add_projection`.

        .. versionadded:: 9.1.0
        """
        return self.projections.view(projection_class)

    @abstractmethod
    def start(self) -> None:
        """Starts the runner."""

    @abstractmethod
    def stop(self) -> None:
        """Stops the runner."""

    @abstractmethod
    def get(self, cls: type[A]) -> A:
        """Returns the application instance for the given application class."""

    def _begin_start(self) -> None:
        if self.is_started:
            msg = (
                f"{type(self).__name__} is already started: call stop() before "
                "starting it again, or construct another runner"
            )
            raise RunnerAlreadyStarted(msg)
        self.is_started = True

    def _get(self, cls: type[A]) -> A:
        if not self.is_started:
            msg = f"{type(self).__name__} is not started: call start() before get()"
            raise RunnerNotStarted(msg)
        app = self.apps.get(cls.name)
        if not isinstance(app, cls):
            msg = (
                f"{cls.__qualname__} is not an application of the system "
                f"(applications: {', '.join(self.apps)})"
            )
            raise ValueError(msg)
        return app

    def _leaders(self) -> dict[str, Leader]:
        return {name: cast(Leader, self.apps[name]) for name in self.system.leads}


class SingleThreadedRunner(Runner, Promptable):
    """Runs a :class:`System` in a single thread: leaders prompt the runner, and
    the runner has the followers pull and process, one prompt after another."""

    def __init__(self, system: System, env: Mapping[str, str] | None = None) -> None:
        """Initialises the runner with the given :class:`System`."""
        super().__init__(system, env)
        self._prompted: deque[str] = deque()
        self._followers: dict[str, list[Follower]] = {}
        self._is_prompting = False
        self._lock = threading.Lock()

    def start(self) -> None:
        """Constructs the applications, has each follower follow its leaders' logs
        and each leader prompt this runner, then processes any notifications that
        were recorded while the system was not running."""
        self._begin_start()
        projected = self.projections.application_names
        try:
            for name in self.system.nodes:
                # Applications with projections prompt the runner, as leaders do.
                cls = (
                    self.system.leader_cls(name)
                    if name in projected
                    else self.system.runnable_cls(name)
                )
                self.apps[name] = cls(env=self.env)
            for follower_name, leader_names in self.system.follows.items():
                follower = cast(Follower, self.apps[follower_name])
                for leader_name in leader_names:
                    follower.follow(leader_name, self.apps[leader_name].log)
            self._followers = {
                name: [cast(Follower, self.apps[f]) for f in followers]
                for name, followers in self.system.leads.items()
            }
            self.projections.start(self.apps, self.env, threaded=False)
            leaders = {**self._leaders(), **{n: self.apps[n] for n in projected}}
            for leader in leaders.values():
                cast(Leader, leader).lead(self)
            for leader_name in leaders:
                self.receive_prompt(leader_name)
        except BaseException:
            self.stop()
            raise

    def receive_prompt(self, leader_name: str) -> None:
        """Queues the name of the prompting leader and, unless a prompt is already
        being processed further up the call stack (or in another thread), has the
        leader's followers pull and process until the queue is empty."""
        with self._lock:
            if leader_name not in self._prompted:
                self._prompted.append(leader_name)
            if self._is_prompting:
                return
            self._is_prompting = True
        try:
            while True:
                with self._lock:
                    # Checked and cleared under one lock so no prompt is stranded.
                    if not self._prompted:
                        self._is_prompting = False
                        return
                    name = self._prompted.popleft()
                for follower in self._followers.get(name, ()):
                    follower.pull_and_process(name)
                self.projections.prompt(name)
        except BaseException:
            with self._lock:
                self._is_prompting = False
            raise

    def stop(self) -> None:
        """Stops the runner: leaders no longer prompt it, and the applications are
        released."""
        self.projections.stop()
        for app in self.apps.values():
            if isinstance(app, Leader) and self in app.followers:
                app.followers.remove(self)
        self.apps = {}
        self._followers = {}
        self._prompted.clear()
        self.is_started = False

    def get(self, cls: type[A]) -> A:
        """Returns the application instance for the given application class."""
        return self._get(cls)


class MultiThreadedRunnerThread(Promptable, threading.Thread):
    """Runs one follower for a :class:`MultiThreadedRunner`.

    Prompts are collected and signalled with the ``is_prompted`` event, so none is
    lost however they interleave with processing. An error stops the thread and is
    kept in ``error`` for the runner to raise.
    """

    def __init__(
        self,
        app_class: type[Follower],
        is_stopping: threading.Event,
        *,
        env: Mapping[str, str] | None = None,
        has_errored: threading.Event | None = None,
    ) -> None:
        super().__init__(name=f"eventsourcing-{app_class.name}", daemon=True)
        self.app_class = app_class
        self.is_stopping = is_stopping
        self.env = env
        self.has_errored = has_errored or threading.Event()
        self.is_ready = threading.Event()
        self.is_prompted = threading.Event()
        self.error: BaseException | None = None
        self.app: Follower | None = None
        self._prompted_names: list[str] = []
        self._lock = threading.Lock()

    def run(self) -> None:
        """Constructs the application, then until stopped waits for prompts and
        has the application pull and process each prompted name."""
        try:
            self.app = app = self.app_class(env=self.env)
        except BaseException as error:
            self._fail(error)
            return
        finally:
            self.is_ready.set()
        try:
            while True:
                self.is_prompted.wait()
                with self._lock:
                    self.is_prompted.clear()
                    names, self._prompted_names = self._prompted_names, []
                for name in names:
                    if self.is_stopping.is_set():
                        return
                    app.pull_and_process(name)
                if self.is_stopping.is_set():
                    return
        except BaseException as error:
            self._fail(error)

    def _fail(self, error: BaseException) -> None:
        logger.error(
            "Follower %r stopped because of an error; its position is recorded "
            "with each processed notification, so a new runner resumes after the "
            "last one it recorded",
            self.app_class.name,
            exc_info=error,
        )
        self.error = error
        self.has_errored.set()

    def receive_prompt(self, leader_name: str) -> None:
        """Collects the name of the prompting leader and sets ``is_prompted``."""
        with self._lock:
            if leader_name not in self._prompted_names:
                self._prompted_names.append(leader_name)
            self.is_prompted.set()


class MultiThreadedRunner(Runner):
    """Runs a :class:`System` with a :class:`MultiThreadedRunnerThread` for each
    follower; leaders that follow nothing are constructed in the caller's thread.

    An error in a follower's thread stops that follower and is raised, chained, as
    :class:`FollowerFailed` from :meth:`get`, :meth:`wait` or :meth:`stop`; so is
    the error of a projection's thread, as
    :class:`~eventsourcing.projection.ProjectionFailed`.
    """

    def __init__(self, system: System, env: Mapping[str, str] | None = None) -> None:
        """Initialises the runner with the given :class:`System`."""
        super().__init__(system, env)
        self.threads: dict[str, MultiThreadedRunnerThread] = {}
        self.is_stopping = threading.Event()
        self.has_errored = threading.Event()
        self._reported: set[str] = set()

    def start(self) -> None:
        """Starts a thread for each follower, constructs the other applications,
        has each follower follow its leaders' logs and each leader prompt its
        followers' threads, then prompts every thread once so that notifications
        recorded while the system was not running are processed."""
        self._begin_start()
        self.is_stopping = threading.Event()
        self.has_errored = threading.Event()
        self._reported = set()
        try:
            for name in self.system.follows:
                app_class = cast(type[Follower], self.system.runnable_cls(name))
                thread = MultiThreadedRunnerThread(
                    app_class,
                    self.is_stopping,
                    env=self.env,
                    has_errored=self.has_errored,
                )
                self.threads[name] = thread
                thread.start()
                # One application at a time: backends may create tables or set
                # database modes on construction, which can race.
                thread.is_ready.wait()
                self._raise_errors(only_unreported=False)
                # Without an error, run() set the app before setting is_ready.
                self.apps[name] = cast(Follower, thread.app)
            for name in self.system.nodes:
                if name not in self.system.follows:
                    self.apps[name] = self.system.runnable_cls(name)(env=self.env)
            for follower_name, leader_names in self.system.follows.items():
                follower = cast(Follower, self.apps[follower_name])
                for leader_name in leader_names:
                    follower.follow(leader_name, self.apps[leader_name].log)
            leaders = self._leaders()
            for follower_name, thread in self.threads.items():
                for leader_name in self.system.follows[follower_name]:
                    leaders[leader_name].lead(thread)
                    thread.receive_prompt(leader_name)
            # Projections are woken by commits: no prompts.
            self.projections.start(self.apps, self.env, threaded=True)
        except BaseException:
            self._shutdown()
            self.threads = {}
            raise

    def _shutdown(self) -> None:
        self.projections.stop()
        self.is_stopping.set()
        for thread in self.threads.values():
            thread.is_prompted.set()
        for thread in self.threads.values():
            if thread.is_alive():
                thread.join()
        for app in self.apps.values():
            if isinstance(app, Leader):
                app.followers = [
                    f for f in app.followers if f not in self.threads.values()
                ]
        self.apps = {}
        self.is_started = False

    def stop(self) -> None:
        """Stops the threads and waits for them to finish, then raises
        :class:`FollowerFailed` if a follower stopped because of an error that
        has not already been raised by :meth:`get` or :meth:`wait`."""
        self._shutdown()
        try:
            self._raise_errors(only_unreported=True)
        finally:
            self.threads = {}

    def _raise_errors(self, *, only_unreported: bool) -> None:
        self.projections.raise_errors(only_unreported=only_unreported)
        if not self.has_errored.is_set():
            return
        failed = [name for name, t in self.threads.items() if t.error is not None]
        for name in failed:
            if only_unreported and name in self._reported:
                continue
            self._reported.add(name)
            error = self.threads[name].error
            msg = (
                f"Follower {name!r} stopped because of an error: {error!r}. "
                "Its position is recorded with each processed notification, so "
                "after fixing the cause, stop() and start() a runner to resume"
            )
            if len(failed) > 1:
                msg += f" (followers that failed: {', '.join(failed)})"
            raise FollowerFailed(msg, app_name=name) from error

    def get(self, cls: type[A]) -> A:
        """Returns the application instance for the given application class.

        Raises :class:`FollowerFailed` if a follower has stopped because of an
        error.
        """
        self._raise_errors(only_unreported=False)
        return self._get(cls)

    def wait(self, timeout: float = 10.0) -> None:
        """Blocks until every follower has processed every notification recorded
        by the applications it follows, or raises :class:`TimeoutError` after
        ``timeout`` seconds, or :class:`FollowerFailed` if a follower failed."""
        if not self.is_started:
            msg = "MultiThreadedRunner is not started: call start() before wait()"
            raise RunnerNotStarted(msg)
        deadline = monotonic() + timeout
        previous: list[tuple[int, int]] | None = None
        while True:
            self._raise_errors(only_unreported=False)
            positions = self._positions()
            if positions == previous and all(t >= n for t, n in positions):
                self.projections.wait(self.apps, deadline)
                return
            previous = positions
            remaining = deadline - monotonic()
            if remaining <= 0:
                lagging = [
                    f"{follower} at {t} of {leader}'s {n}"
                    for (follower, leader), (t, n) in zip(
                        self._pairs(), positions, strict=True
                    )
                    if t < n
                ]
                msg = (
                    f"Followers did not catch up within {timeout} seconds: "
                    f"{'; '.join(lagging) or 'positions kept changing'}"
                )
                raise TimeoutError(msg)
            self.has_errored.wait(min(0.005, remaining))

    def _pairs(self) -> list[tuple[str, str]]:
        return [
            (follower, leader)
            for follower, leaders in self.system.follows.items()
            for leader in leaders
        ]

    def _positions(self) -> list[tuple[int, int]]:
        positions = []
        for follower_name, leader_name in self._pairs():
            follower = cast(Follower, self.apps[follower_name])
            leader = self.apps[leader_name]
            positions.append(
                (
                    follower.position(leader_name),
                    leader.recorder.max_notification_id(),
                )
            )
        return positions
