"""Workers: one application of a system, run in this process, sharing the
application's partitions with its other workers in any processes on any hosts,
coordinated only through leases and wake-ups from the infrastructure.

Each worker holds a *slot* lease (``APP/worker/K``, the lowest free K), so the
workers can count each other: a worker of rank r among W live workers aims to
hold ``P // W`` partitions, one more when ``r < P % W``, and takes free
partition leases (``APP/partition/P``) or gives up its extra ones at each
lease round. A killed worker's leases are freed by the infrastructure, and its
partitions are taken over at the next rounds of the others.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

from eventsourcing.persistence import (
    ConfigurationError,
    InfrastructureFactory,
    InterfaceError,
    OperationalError,
    PersistenceError,
    RecordConflictError,
    holder_identity,
)

from ._application import Follower
from ._signals import run_until_stopped
from ._sources import LeaderSource, open_leader

if TYPE_CHECKING:
    from eventsourcing.persistence import Leases, Wakeup

    from ._definition import System

__all__ = [
    "WORKER_LEASE_INTERVAL",
    "WORKER_POLL_INTERVAL",
    "Worker",
    "layout_lease",
    "partition_lease",
    "slot_lease",
]

logger = logging.getLogger("eventsourcing.system")

WORKER_POLL_INTERVAL = "WORKER_POLL_INTERVAL"
WORKER_LEASE_INTERVAL = "WORKER_LEASE_INTERVAL"
DEFAULT_POLL_INTERVAL = 1.0
DEFAULT_LEASE_INTERVAL = 1.0
# Conflicts of a policy's new events with another partition's, retried at once.
MAX_CONFLICTS = 10
# How long a wait on a wake-up lasts at most, so that stopping is quick.
_LISTEN_SLICE = 0.25
_LAYOUT_TIMEOUT = 30.0


def partition_lease(app_name: str, partition: int) -> str:
    """The lease of one partition of an application."""
    return f"{app_name}/partition/{partition}"


def slot_lease(app_name: str, slot: int) -> str:
    """The lease that counts a live worker of an application."""
    return f"{app_name}/worker/{slot}"


def layout_lease(app_name: str) -> str:
    """The lease held while the number of partitions is checked and recorded."""
    return f"{app_name}/layout"


class _Pause:
    """Set when the worker stops, and when a lease round is due: a long pull
    (catching up) returns after the notification in hand, so that the round
    happens on time."""

    def __init__(self, stopping: threading.Event) -> None:
        self.stopping = stopping
        self.next_round = 0.0

    def is_set(self) -> bool:
        return self.stopping.is_set() or time.monotonic() >= self.next_round


def seconds_setting(factory: InfrastructureFactory, key: str, default: float) -> float:
    """A worker's setting of a positive number of seconds, ``default`` if unset."""
    value = factory.getenv(key)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        msg = (
            f"{key}={value!r} is not a number of seconds: give a positive "
            f"number such as '0.5' (default {default:g})."
        )
        raise ConfigurationError(msg)
    return seconds


class Worker:
    """Runs the follower ``app_name`` of ``system`` in this process: follows its
    leaders' logs (from their databases, or over HTTP), holds the partitions it
    is given by leases and processes their notifications, until :meth:`stop`
    (or SIGTERM or SIGINT when :meth:`run` handles signals).

    ``env`` configures the applications as it does for runners. Settings, which
    may be prefixed with the application's name: "WORKER_POLL_INTERVAL"
    (seconds between looks at each log however quiet it is, default 1),
    "WORKER_LEASE_INTERVAL" (seconds between lease rounds, which bounds how long
    a killed worker's partitions wait to be taken over, default 1) and the
    follower's "PARTITIONS".

    .. versionadded:: 9.1.0
    """

    def __init__(
        self, system: System, app_name: str, env: Mapping[str, str] | None = None
    ) -> None:
        if app_name not in system.follows:
            known = ", ".join(system.follows) or "none"
            what = (
                "follows no application, so there is nothing for a worker to do "
                "(its commands come from your code)"
                if app_name in system.nodes
                else "is not an application of the system"
            )
            msg = f"{app_name!r} {what}: run a follower (followers: {known})"
            raise ValueError(msg)
        self.system = system
        self.app_name = app_name
        self.env = env
        self.identity = holder_identity()
        self.owned: set[int] = set()
        """The partitions this worker holds."""
        self.slot: int | None = None
        self.ready = threading.Event()
        """Set once the worker is processing (and cleared when it stops)."""
        self._stopping = threading.Event()
        self._pause = _Pause(self._stopping)
        self._prompted = threading.Event()
        self._woken: set[str] = set()
        self._lock = threading.Lock()
        self._sources: dict[str, LeaderSource] = {}
        self._listeners: list[threading.Thread] = []
        self._unlisten = threading.Event()
        self._conflicts = 0
        self._failures = 0
        self._ran = False
        self.poll_interval = DEFAULT_POLL_INTERVAL
        """Seconds between looks at each leader's log (read from the settings
        when it runs)."""
        self.lease_interval = DEFAULT_LEASE_INTERVAL
        """Seconds between lease rounds (read from the settings when it runs)."""

    # Set by run(), for as long as it runs.
    _app: Follower
    _leases: Leases

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.app_name!r}, {self.identity!r})"

    @property
    def app(self) -> Follower | None:
        """The follower application, while :meth:`run` runs."""
        return self.__dict__.get("_app")

    # Running and stopping.

    def stop(self) -> None:
        """Asks the worker to stop: it records the notification in hand, gives up
        its leases and returns from :meth:`run`. Safe from any thread."""
        self._stopping.set()
        self._prompted.set()

    _signal_note = "finishing the notification in hand"

    def run(self, *, handle_signals: bool | None = None) -> None:
        """Runs the worker until :meth:`stop`. With ``handle_signals`` (by
        default, when called in the main thread), SIGTERM and SIGINT stop it;
        a second SIGINT interrupts it at once."""
        run_until_stopped(self, handle_signals, logger, self._signal_note)

    def _describe(self) -> str:
        return f"Worker {self.identity} of {self.app_name}"

    def _start(self) -> None:
        self._unlisten = threading.Event()
        app = cast(Follower, self.system.runnable_cls(self.app_name)(env=self.env))
        self._app = app
        self.poll_interval = seconds_setting(
            app.factory, WORKER_POLL_INTERVAL, DEFAULT_POLL_INTERVAL
        )
        self.lease_interval = seconds_setting(
            app.factory, WORKER_LEASE_INTERVAL, DEFAULT_LEASE_INTERVAL
        )
        for name in self.system.follows[self.app_name]:
            source = open_leader(self.system, name, self.env, app.env)
            self._sources[name] = source
            # Listening starts before the first read, so no commit is missed.
            wakeup = source.wakeup()
            app.follow(name, source.log)
            if wakeup is not None:
                listener = threading.Thread(
                    target=self._listen,
                    args=(name, wakeup, self._unlisten),
                    name=f"eventsourcing-{self.app_name}-listens-to-{name}",
                    daemon=True,
                )
                self._listeners.append(listener)
                listener.start()
        self._leases = app.factory.leases()
        self._check_partitions()
        logger.info(
            "Worker %s runs %s (%d partition%s), following %s",
            self.identity,
            self.app_name,
            app.partitions,
            "" if app.partitions == 1 else "s",
            ", ".join(s.describe() for s in self._sources.values()),
        )
        self.ready.set()

    def _check_partitions(self) -> None:
        """Checks (and on the first run records) the number of partitions under a
        lease, so that two workers cannot record two numbers."""
        name = layout_lease(self.app_name)
        deadline = time.monotonic() + _LAYOUT_TIMEOUT
        while not self._leases.try_acquire(name):
            if time.monotonic() > deadline:
                holder = self._leases.holder(name) or "another worker"
                msg = (
                    f"{self.app_name}'s number of partitions could not be checked: "
                    f"{holder} has held the lease {name!r} for more than "
                    f"{_LAYOUT_TIMEOUT:g} seconds"
                )
                raise TimeoutError(msg)
            time.sleep(0.05)
        try:
            for leader_name in self._sources:
                self._app.check_partitions(leader_name)
        finally:
            self._leases.release(name)

    def _listen(self, name: str, wakeup: Wakeup, unlisten: threading.Event) -> None:
        """Waits for commits to a leader's log and prompts the worker, until
        ``unlisten`` is set."""
        try:
            while not unlisten.is_set():
                if wakeup.wait(min(_LISTEN_SLICE, self.poll_interval)):
                    with self._lock:
                        self._woken.add(name)
                    self._prompted.set()
        except Exception:
            logger.exception(
                "%s stopped listening to %s; it polls every %g seconds",
                self.app_name,
                name,
                self.poll_interval,
            )
        finally:
            wakeup.close()

    def _loop(self) -> None:
        next_poll = 0.0
        while not self._stopping.is_set():
            now = time.monotonic()
            if now >= self._pause.next_round:
                self._lease_round()
                self._pause.next_round = now + self.lease_interval
            next_round = self._pause.next_round
            with self._lock:
                names, self._woken = self._woken, set()
            if now >= next_poll:
                names = set(self._sources)
                next_poll = now + self.poll_interval
            for name in self._sources:
                if name in names and not self._stopping.is_set():
                    self._process(name)
            timeout = min(next_round, next_poll) - time.monotonic()
            self._prompted.wait(max(0.0, timeout))
            self._prompted.clear()

    def _process(self, name: str) -> None:
        if not self.owned:
            return
        try:
            self._app.pull_and_process(name, self.owned, stop=self._pause)
            if self._pause.is_set():
                # Paused for a lease round, perhaps with more to do.
                with self._lock:
                    self._woken.add(name)
        except RecordConflictError:
            # Another partition changed an aggregate that this notification's
            # policy changes too: process it again, after a random pause.
            self._conflicts += 1
            if self._conflicts > MAX_CONFLICTS:
                raise
            logger.debug(
                "%s processes the notification again after a conflict with "
                "another partition (%d in a row)",
                self.app_name,
                self._conflicts,
            )
            pause = min(0.2, 0.005 * 2**self._conflicts)
            self._retry(name, random.uniform(0, pause))
        except (OperationalError, InterfaceError) as error:
            self._failures += 1
            delay = min(self.poll_interval, 0.05 * 2**self._failures)
            logger.warning(
                "%s could not process %s's log (%s); trying again in %.2g seconds",
                self.app_name,
                name,
                error,
                delay,
            )
            self._retry(name, delay)
        else:
            self._conflicts = self._failures = 0

    def _retry(self, name: str, delay: float) -> None:
        self._stopping.wait(delay)
        with self._lock:
            self._woken.add(name)
        self._prompted.set()

    # Leases.

    def _lease_round(self) -> None:
        """Notices lost leases, counts the live workers, and takes or gives up
        partitions to hold this worker's share."""
        try:
            self._rebalance()
        except PersistenceError as error:
            logger.warning(
                "Worker %s of %s could not check its leases (%s); it tries again "
                "in %g seconds",
                self.identity,
                self.app_name,
                error,
                self.lease_interval,
            )

    def _rebalance(self) -> None:
        # A worker left running through a repartition stops here.
        for leader_name in self._sources:
            self._app.check_partitions(leader_name)
        leases = self._leases
        held = leases.held()
        for partition in sorted(self.owned):
            if partition_lease(self.app_name, partition) not in held:
                self.owned.discard(partition)
                self._log_change("lost", partition, logging.WARNING)
        if self.slot is not None and slot_lease(self.app_name, self.slot) not in held:
            self.slot = None
        if self.slot is None:
            self.slot = self._take_slot()
        rank, workers = self._count_workers()
        partitions = self._app.partitions
        share = partitions // workers + (1 if rank < partitions % workers else 0)
        for partition in sorted(self.owned, reverse=True)[
            : max(0, len(self.owned) - share)
        ]:
            # Said before it is done, so that no one is seen to take it first.
            self._log_change("released", partition)
            self.owned.discard(partition)
            leases.release(partition_lease(self.app_name, partition))
        if len(self.owned) >= share:
            return
        # Start looking where this worker's share would begin, so that workers
        # starting together do not all try the same partitions first.
        first = rank * partitions // workers
        for offset in range(partitions):
            partition = (first + offset) % partitions
            if partition in self.owned:
                continue
            if leases.try_acquire(partition_lease(self.app_name, partition)):
                for leader_name in self._sources:
                    self._app.forget_positions(leader_name, [partition])
                self.owned.add(partition)
                self._log_change("acquired", partition)
                if len(self.owned) >= share:
                    return

    def _take_slot(self) -> int:
        slot = 0
        while not self._leases.try_acquire(slot_lease(self.app_name, slot)):
            slot += 1
        return slot

    def _count_workers(self) -> tuple[int, int]:
        """This worker's rank among the live workers, and how many they are (as
        far as it matters for sharing the partitions); moves to a lower slot when
        one is free, so that slots stay dense."""
        assert self.slot is not None
        leases = self._leases
        rank = 0
        for slot in range(self.slot):
            if leases.try_acquire(slot_lease(self.app_name, slot)):
                leases.release(slot_lease(self.app_name, self.slot))
                self.slot = slot
                break
            rank += 1
        workers = rank + 1
        for slot in range(self.slot + 1, self.slot + 1 + self._app.partitions):
            name = slot_lease(self.app_name, slot)
            if leases.try_acquire(name):
                leases.release(name)
            else:
                workers += 1
        return rank, workers

    def _log_change(
        self, change: str, partition: int, level: int = logging.INFO
    ) -> None:
        logger.log(
            level,
            "Worker %s of %s %s partition %d of %d",
            self.identity,
            self.app_name,
            change,
            partition,
            self._app.partitions,
            extra={
                "lease_change": change,
                "worker": self.identity,
                "app": self.app_name,
                "partition": partition,
                "partitions": self._app.partitions,
            },
        )

    def _shutdown(self) -> None:
        self._stopping.set()
        self._prompted.set()
        self._close()
        logger.info("Worker %s of %s stopped", self.identity, self.app_name)

    def _close(self) -> None:
        self.ready.clear()
        self._unlisten.set()
        for listener in self._listeners:
            listener.join(_LISTEN_SLICE * 4)
        self._listeners = []
        leases: Leases | None = self.__dict__.pop("_leases", None)
        if leases is not None:
            for partition in sorted(self.owned):
                self._log_change("released", partition)
                with contextlib.suppress(PersistenceError):
                    leases.release(partition_lease(self.app_name, partition))
            self.owned = set()
            with contextlib.suppress(PersistenceError):
                leases.close()
        self.slot = None
        for source in self._sources.values():
            source.close()
        self._sources = {}
        app: Follower | None = self.__dict__.pop("_app", None)
        if app is not None:
            app.close()
