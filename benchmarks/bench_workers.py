"""Worker figures, on PostgreSQL: events processed per second by 1, 2 and 4
worker processes of one follower whose policy spends about 1 ms of CPU per
event; the latency from a leader's commit to the follower's recorded result,
woken by notifications and by polling only; and the catch-up rate of one worker
with a trivial policy, against the single-threaded runner on the same data.

Run as a script with ``worker`` it is a worker process of the benchmark system
(``python benchmarks/bench_workers.py worker --app Busy [--polling-only]``).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.system import (
    Follower,
    ProcessEvent,
    SingleThreadedRunner,
    System,
    Worker,
    status,
)

HERE = Path(__file__).resolve().parent
POLICY_CPU = 0.001


class Job(Aggregate):
    def __init__(self, n: int) -> None:
        self.n = n


class Jobs(Application):
    def add(self, n: int, batch: int = 1) -> None:
        for i in range(0, n, batch):
            self.save(*(Job(i + j) for j in range(min(batch, n - i))))


class Busy(Follower):
    """Spends about 1 ms of CPU on each event, and records its position."""

    partitions = 4

    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        end = time.process_time() + POLICY_CPU
        while time.process_time() < end:
            pass


# When the catch-up's first and last notifications were recorded.
_timing: dict[str, float] = {}


class Quick(Follower):
    """Records its position only (and, for the catch-up figures, when it
    recorded the first notification and the notification ``_timing["last"]``)."""

    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        pass

    def record(self, process_event: ProcessEvent) -> Any:
        recordings = super().record(process_event)
        now = time.perf_counter()
        _timing.setdefault("first", now)
        assert process_event.tracking is not None
        if process_event.tracking.notification_id == _timing.get("last"):
            _timing["done"] = now
        return recordings


class QuickRunner(Quick):
    """The same, run by the single-threaded runner on the same leader."""


system = System(pipes=[[Jobs, Busy], [Jobs, Quick], [Jobs, QuickRunner]])


def worker_main(argv: list[str]) -> int:
    """A worker process of the benchmark system."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", required=True)
    parser.add_argument("--polling-only", action="store_true")
    args = parser.parse_args(argv)
    if args.polling_only:
        from eventsourcing.persistence import InfrastructureFactory
        from eventsourcing.postgres import Factory

        # The default wake-up, which commits in other processes never wake.
        Factory.wakeup = InfrastructureFactory.wakeup  # type: ignore[method-assign]
    Worker(system, args.app).run()
    return 0


@contextmanager
def workers(
    env: dict[str, str], app: str, count: int, *, polling_only: bool = False
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` worker processes of ``app``, started and sharing the partitions
    before the block begins."""
    command = [sys.executable, str(Path(__file__)), "worker", "--app", app]
    if polling_only:
        command.append("--polling-only")
    python_path = os.pathsep.join(
        p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p
    )
    process_env = {**os.environ, **env, "PYTHONPATH": python_path}
    processes = [subprocess.Popen(command, env=process_env) for _ in range(count)]
    try:
        deadline = time.monotonic() + 60
        while True:
            found = status(system, env, apps=[app])
            owners = [p.owner for p in found.partitions]
            shares = sorted(owners.count(o) for o in set(owners))
            fair = [len(owners) // count] * count
            if None not in owners and len(set(owners)) == count and shares == fair:
                break
            if time.monotonic() > deadline:
                msg = f"{count} workers of {app} did not share its partitions"
                raise RuntimeError(msg)
            time.sleep(0.05)
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)


def last_of_each_partition(jobs: Jobs, busy: Busy) -> list[int]:
    """The last notification ID of each partition of the leader's log."""
    last = [0] * busy.partitions
    start = 1
    while True:
        batch = jobs.recorder.select_notifications(start, 1000)
        for notification in batch:
            last[busy.partition_of(notification.originator_id)] = notification.id
        if len(batch) < 1000:
            return last
        start = batch[-1].id + 1


def throughput(env: dict[str, str], count: int, events: int) -> float:
    """Events/s processed by ``count`` workers of Busy, once they share it."""
    with schema(env) as env_, workers(env_, "Busy", count):
        jobs = Jobs(env=env_)
        busy = Busy(env=env_)
        started = time.perf_counter()
        jobs.add(events, batch=100)
        names = [busy.tracking_name("Jobs", p) for p in range(busy.partitions)]
        targets = list(zip(names, last_of_each_partition(jobs, busy), strict=True))
        # Not too often: the two cores are for the workers and the database.
        while any(busy.recorder.max_tracking_id(n) < last for n, last in targets):
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        jobs.close()
        busy.close()
    return events / seconds


def latencies(env: dict[str, str], samples: int, *, polling_only: bool) -> list[float]:
    """Seconds from each leader's commit to the follower's recorded position,
    one event at a time."""
    with schema(env) as env_, workers(env_, "Quick", 1, polling_only=polling_only):
        jobs = Jobs(env=env_)
        quick = Quick(env=env_)
        seconds = []
        rng = random.Random(1)
        for _ in range(samples):
            jobs.add(1)
            committed = time.perf_counter()
            target = jobs.recorder.max_notification_id()
            while quick.recorder.max_tracking_id("Jobs") < target:
                time.sleep(0.0005)
            seconds.append(time.perf_counter() - committed)
            # Out of step with the worker's polls.
            time.sleep(rng.uniform(0, 1.0) if polling_only else 0.005)
        jobs.close()
        quick.close()
    return seconds


def catch_up(env: dict[str, str], events: int) -> tuple[float, float]:
    """Events/s of one worker (in this process) and of the single-threaded
    runner, each catching up with the same ``events`` notifications, from the
    first recorded to the last (so neither's start is counted)."""
    with schema(env) as env_:
        jobs = Jobs(env=env_)
        jobs.add(events, batch=100)
        last = jobs.recorder.max_notification_id()
        # Read once, so that neither reads it first from a colder cache.
        jobs.recorder.select_notifications(1, events)
        _timing.clear()
        _timing["last"] = last
        runner = SingleThreadedRunner(System(pipes=[[Jobs, QuickRunner]]), env=env_)
        runner.start()
        runner.stop()
        runner_rate = (events - 1) / (_timing["done"] - _timing["first"])
        _timing.clear()
        _timing["last"] = last
        worker = Worker(system, "Quick", env_)
        thread = threading.Thread(target=worker.run)
        thread.start()
        while "done" not in _timing:
            time.sleep(0.05)
        worker_rate = (events - 1) / (_timing["done"] - _timing["first"])
        worker.stop()
        thread.join()
        jobs.close()
    return worker_rate, runner_rate


@contextmanager
def schema(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """The benchmark's tables in a schema of their own (fresh each time)."""
    yield {**env, "POSTGRES_SCHEMA": f"bench_{uuid4().hex[:12]}"}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(env: dict[str, str], *, quick: bool) -> dict[str, Any]:
    """Every figure (best of a few runs where that makes sense)."""
    events = 600 if quick else 3000
    repeats = 1 if quick else 2
    results: dict[str, Any] = {}
    for count in (1, 2, 4):
        results[f"{count} worker{'s' if count > 1 else ''}"] = max(
            throughput(env, count, events) for _ in range(repeats)
        )
    notified = latencies(env, 30 if quick else 300, polling_only=False)
    polled = latencies(env, 5 if quick else 30, polling_only=True)
    results["latency notified"] = notified
    results["latency polled"] = polled
    rates = [catch_up(env, 1000 if quick else 5000) for _ in range(repeats)]
    results["catch-up worker"] = max(w for w, _ in rates)
    results["catch-up runner"] = max(r for _, r in rates)
    return results


if __name__ == "__main__" and sys.argv[1:2] == ["worker"]:
    # Run the worker with this module imported by its name, as the benchmark
    # imports it, so that the topics of its classes are the same.
    import bench_workers

    sys.exit(bench_workers.worker_main(sys.argv[2:]))
