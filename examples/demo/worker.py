"""Sales run by a worker in a process of its own, as a deployment would run it:
``python -m eventsourcing.system run examples.demo.application:make_system --app
Sales``, started, watched and stopped by the demo, which runs Orders itself."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from eventsourcing.popo import Factory as POPOFactory
from eventsourcing.system import status

from .application import Orders, Sales, make_system

SYSTEM_TOPIC = "examples.demo.application:make_system"
COMMAND = ("-m", "eventsourcing.system", "run", SYSTEM_TOPIC, "--app", "Sales")
# Where ``examples`` is imported from, so the worker finds the system from any
# folder, as the demo does.
IMPORT_ROOT = Path(__file__).resolve().parent.parent.parent
# Across processes SQLite has no wake-ups, so the worker looks at Orders' log this
# often (its default, a second, would keep each short run waiting).
POLL_INTERVAL = "0.05"
# How long the worker may take to start and take its partition, and how long it
# may go without progress while it is behind, before the demo gives up on it.
START_TIMEOUT = 30.0
TIMEOUT = 30.0
# A worker stops within a few seconds of SIGTERM; beyond this it is killed.
STOP_TIMEOUT = 15.0
LOG_LINES = 20


class DemoError(Exception):
    """The demo cannot go on; the message says why and what to do."""


class WorkerFailed(DemoError):
    """Sales' worker exited, or made no progress, before it was asked to stop."""


class SalesWorker:
    """Sales' worker process: started with the demo's settings (beside the
    environment), waited for, and stopped with SIGTERM. What it writes is kept,
    to be shown if it fails."""

    def __init__(
        self,
        env: Mapping[str, str] | None,
        *,
        start_timeout: float = START_TIMEOUT,
        timeout: float = TIMEOUT,
    ) -> None:
        self.env = dict(env or {})
        self.start_timeout = start_timeout
        self.timeout = timeout
        self.command = [sys.executable, *COMMAND]
        self._process: subprocess.Popen[bytes] | None = None
        # Lives as long as the worker, so it is closed by close(), not a block.
        self._output = tempfile.TemporaryFile()  # noqa: SIM115

    @property
    def pid(self) -> int:
        return self._started().pid

    @property
    def identity(self) -> str:
        """The worker as a lease holder, as the status of its partition names it."""
        return f"{socket.gethostname()}:{self.pid}"

    def start(self) -> None:
        environ = {**os.environ, **self.env}
        if not {"WORKER_POLL_INTERVAL", "SALES_WORKER_POLL_INTERVAL"} & set(environ):
            environ["WORKER_POLL_INTERVAL"] = POLL_INTERVAL
        environ["PYTHONPATH"] = os.pathsep.join(
            [str(IMPORT_ROOT), *filter(None, [environ.get("PYTHONPATH")])]
        )
        self._process = subprocess.Popen(
            self.command,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
        )

    def wait_until_ready(self) -> None:
        """Waits until the worker holds Sales' partition, as the status of the
        system says."""
        deadline = time.monotonic() + self.start_timeout
        while True:
            self._check_running()
            (partition,) = status(make_system(), self.env, apps=["Sales"]).partitions
            if partition.owner == self.identity:
                return
            if time.monotonic() > deadline:
                why = (
                    f"it is held by {partition.owner}: is another worker of Sales "
                    "running? Stop it, or run the demo without --follower-process."
                    if partition.owner
                    else "no one holds it."
                )
                msg = (
                    f"Sales' worker (process {self.pid}) did not take Sales' "
                    f"partition within {self.start_timeout:g} s: {why}{self._tail()}"
                )
                raise WorkerFailed(msg)
            time.sleep(0.05)

    def catch_up(self, orders: Orders, sales: Sales) -> float:
        """Waits until the worker has processed Orders' last notification, and
        returns the seconds waited; fails if the worker exits, or if it makes no
        progress for ``timeout`` seconds."""
        started = progressed = time.perf_counter()
        last = orders.recorder.max_notification_id()
        seen = -1
        while True:
            reached = sales.recorder.max_tracking_id(orders.name)
            now = time.perf_counter()
            if reached >= last:
                return now - started
            self._check_running()
            if reached > seen:
                seen, progressed = reached, now
            elif now - progressed > self.timeout:
                msg = (
                    f"Sales' worker (process {self.pid}) made no progress for "
                    f"{self.timeout:g} s: it has processed Orders' notifications "
                    f"up to #{reached} of #{last}.{self._tail()}"
                )
                raise WorkerFailed(msg)
            time.sleep(0.01)

    def stop(self) -> int | None:
        """Stops the worker with SIGTERM (killing it if it does not exit in
        time) and returns its exit status (``None``: it was never started)."""
        if self._process is None:
            return None
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
        try:
            return self._process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
            msg = (
                f"Sales' worker (process {self.pid}) did not stop within "
                f"{STOP_TIMEOUT:g} s of SIGTERM, so it was killed.{self._tail()}"
            )
            raise WorkerFailed(msg) from None

    def check_stopped(self, returncode: int | None) -> None:
        if returncode != 0:
            msg = (
                f"Sales' worker (process {self.pid}) exited with status "
                f"{returncode} when stopped with SIGTERM, not 0.{self._tail()}"
            )
            raise WorkerFailed(msg)

    def close(self) -> None:
        self._output.close()

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            msg = "Sales' worker is not started: call start() first"
            raise RuntimeError(msg)
        return self._process

    def _check_running(self) -> None:
        returncode = self._started().poll()
        if returncode is not None:
            msg = (
                f"Sales' worker (process {self.pid}) exited with status "
                f"{returncode} before it was asked to stop.{self._tail()}"
            )
            raise WorkerFailed(msg)

    def output(self) -> str:
        """What the worker has written so far (its log, and any traceback)."""
        self._output.seek(0)
        return self._output.read().decode(errors="replace")

    def _tail(self) -> str:
        """The last lines the worker wrote, to show with an error."""
        lines = self.output().splitlines()
        if not lines:
            return " It wrote nothing."
        shown = "\n".join(f"  | {line}" for line in lines[-LOG_LINES:])
        return f" The last of what it wrote:\n{shown}"


@contextmanager
def running_in_worker(
    env: Mapping[str, str] | None,
) -> Iterator[tuple[Orders, Sales, SalesWorker]]:
    """Runs Orders in this process and Sales in a worker process, which has
    caught up when this yields; Sales is only read here. The worker is stopped
    however this ends, on SIGTERM too."""
    orders = Orders(env=env)
    # Made here first, so that its tables exist before the worker looks.
    sales = Sales(env=env)
    worker = SalesWorker(env)
    restore = _exit_on_sigterm()
    try:
        if isinstance(orders.factory, POPOFactory):
            msg = (
                "--follower-process needs storage that two processes share, but "
                "the environment chooses 'popo', which keeps events in this "
                "process's memory: unset INFRASTRUCTURE_FACTORY (SQLite files) or "
                "choose 'sqlite' or 'postgres'."
            )
            raise DemoError(msg)
        if sales.partitions != 1:
            msg = (
                f"--follower-process runs Sales in one partition, not "
                f"{sales.partitions}: unset SALES_PARTITIONS (or PARTITIONS)."
            )
            raise DemoError(msg)
        worker.start()
        worker.wait_until_ready()
        worker.catch_up(orders, sales)
        yield orders, sales, worker
    except BaseException:
        # Already failing: how the worker ends is not the news.
        with contextlib.suppress(WorkerFailed):
            worker.stop()
        raise
    else:
        returncode = worker.stop()
        worker.check_stopped(returncode)
    finally:
        restore()
        worker.close()
        orders.close()
        sales.close()


def _exit_on_sigterm() -> Callable[[], object]:
    """Makes SIGTERM raise :class:`SystemExit`, so that the worker is stopped on
    the way out; returns what puts the previous handler back. (Only the main
    thread can handle signals.)"""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def exit_now(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, exit_now)
    return lambda: signal.signal(signal.SIGTERM, previous)
