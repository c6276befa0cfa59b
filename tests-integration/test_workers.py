"""Workers in processes of their own (``python -m eventsourcing.system run``), on
PostgreSQL and on SQLite: some start late, some are killed (SIGKILL) at random
moments while the leader keeps writing (on PostgreSQL, database sessions are
killed at random too), and in the end every notification was
processed exactly once, each aggregate's events in order, no partition was ever
held by two workers at once, and a killed worker's partitions were taken over
within the lease interval. Also: a killed listening connection, the
documentation's system of section 1.7 run by a worker, and projection workers
(``run-projection``) stopped by SIGTERM while the application writes."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, cast

import psycopg2
import pytest
import section17
import worker_apps
from projection_views import Entries, EntriesView, Ledger

from eventsourcing.application import Application
from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.projection import construct_view, projection_status
from eventsourcing.system import SingleThreadedRunner, Worker, status

HERE = Path(__file__).resolve().parent
LEASE_INTERVAL = 0.2
# A killed worker's partitions are taken at the others' next lease round; on a
# busy two-core machine a round can be late by the notification in hand, a
# retry after a killed connection, a second round while the replacement worker
# takes its share, and scheduling. Still well under PostgreSQL's 5-second lease
# timeout, so a takeover by the next rounds is told from a lease freed only when
# the server noticed the dead connection.
TAKEOVER_WITHIN = LEASE_INTERVAL + 3.0


@dataclass
class WorkerProcess:
    """A worker run by the command line, its output (JSON lines) in a file."""

    env: dict[str, str]
    out: Path
    topic: str = "worker_apps:system"
    app: str = "Results"
    # The command's arguments, when not those of `run` (`run-projection ...`).
    command: list[str] | None = None
    killed_at: float | None = None
    proc: subprocess.Popen[bytes] = field(init=False)

    def __post_init__(self) -> None:
        command = self.command or ["run", self.topic, "--app", self.app]
        with self.out.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "eventsourcing.system", *command, "--json"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=HERE,
            )

    def kill(self) -> None:
        # Taken before the kill: the worker cannot outlive it by much, and its
        # leases are freed only after it died.
        self.killed_at = time.time()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> tuple[int, float]:
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(30)
        return code, time.monotonic() - started

    def records(self) -> list[dict[str, Any]]:
        records = []
        # The last line is being written (or was cut off by a kill) unless the
        # text ends with a newline: only whole lines are read.
        *lines, _ = self.out.read_text().split("\n")
        for line in lines:
            if not line.startswith("{"):
                continue  # libpq's own messages (a killed connection's FATAL)
            records.append(json.loads(line))
        return records

    def lease_changes(self) -> list[dict[str, Any]]:
        return [r for r in self.records() if "lease_change" in r]

    def is_running(self) -> bool:
        """Whether it has started (handling signals, holding its slot) and has
        not been killed."""
        return self.killed_at is None and any(
            f"runs {self.app} " in r.get("message", "") for r in self.records()
        )


def worker_env(settings: dict[str, str], **more: str) -> dict[str, str]:
    python_path = os.pathsep.join(
        p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p
    )
    return {
        **os.environ,
        **settings,
        "PYTHONPATH": python_path,
        "WORKER_LEASE_INTERVAL": str(LEASE_INTERVAL),
        **more,
    }


def caught_up(
    settings: dict[str, str],
    system: Any,
    timeout: float,
    workers: list[WorkerProcess],
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        for worker in workers:
            assert worker.proc.poll() is None, worker.out.read_text()[-3000:]
        found = status(system, settings)
        if not found.unhealthy(max_lag=0):
            return
        assert time.monotonic() < deadline, found.unhealthy(max_lag=0)
        time.sleep(0.2)


Holds = dict[int, list[tuple[float, float, int]]]


def intervals(workers: list[WorkerProcess]) -> Holds:
    """Each partition's holds: (from, to, pid), from each worker's lease log."""
    held: Holds = defaultdict(list)
    for worker in workers:
        opened: dict[int, float] = {}
        for change in worker.lease_changes():
            partition = change["partition"]
            assert change["lease_change"] in ("acquired", "released"), change
            if change["lease_change"] == "acquired":
                assert partition not in opened
                opened[partition] = change["time"]
            else:
                held[partition].append(
                    (opened.pop(partition), change["time"], worker.proc.pid)
                )
        # A killed worker held what it had not given up until it was killed.
        assert not opened or worker.killed_at is not None
        for partition, since in opened.items():
            assert worker.killed_at is not None
            held[partition].append((since, worker.killed_at, worker.proc.pid))
    return held


def check_results(settings: dict[str, str]) -> None:
    """Every notification of the leader has one result, and the results of each
    item are in the order of its events."""
    with (
        worker_apps.Items(env=settings) as items,
        worker_apps.Results(env=settings) as results,
    ):
        leader_ids = [n.id for n in all_notifications(items)]
        assert leader_ids
        per_notification: Counter[int] = Counter()
        versions: dict[Any, list[int]] = defaultdict(list)
        for notification in all_notifications(results):
            result: Any = results.mapper.to_domain_event(notification)
            per_notification[result.notification_id] += 1
            versions[result.item_id].append(result.item_version)
        assert set(per_notification) == set(leader_ids)
        assert set(per_notification.values()) == {1}
        for item_versions in versions.values():
            assert item_versions == list(range(1, len(item_versions) + 1))


def all_notifications(app: Application) -> Iterator[Any]:
    start = 1
    while True:
        batch = app.recorder.select_notifications(start, 500)
        yield from batch
        if len(batch) < 500:
            return
        start = batch[-1].id + 1


def chaos(
    settings: dict[str, str],
    tmp_path: Path,
    *,
    seconds: float,
    kill_a_connection: Callable[[random.Random], None] | None = None,
) -> None:
    """Workers come and go (killed at random moments) while the leader writes,
    and database connections are killed too if a way is given; then the
    checks."""
    rng = random.Random(os.getpid())
    env = worker_env(settings)
    workers: list[WorkerProcess] = []
    outputs = iter(tmp_path / f"worker{i}.jsonl" for i in range(100))

    def start() -> WorkerProcess:
        workers.append(WorkerProcess(env, next(outputs)))
        return workers[-1]

    writing = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with worker_apps.Items(env=settings) as items:
                while not writing.is_set():
                    # A killed connection fails a save (perhaps after it was
                    # committed): the item is left with what was recorded.
                    with contextlib.suppress(OperationalError, InterfaceError):
                        items.add(touches=2)
                    time.sleep(0.01)
        except BaseException as error:  # pragma: no cover (reported below)
            errors.append(error)

    def kill_connections() -> None:
        assert kill_a_connection is not None
        try:
            while not writing.wait(rng.uniform(0.2, 0.6)):
                kill_a_connection(rng)
        except BaseException as error:  # pragma: no cover (reported below)
            errors.append(error)

    writer = threading.Thread(target=write)
    killer = threading.Thread(target=kill_connections)
    live = [start(), start()]
    writer.start()
    if kill_a_connection is not None:
        killer.start()
    try:
        began = time.monotonic()
        late_at = began + seconds * 0.2
        kills = sorted(rng.uniform(seconds * 0.25, seconds * 0.8) for _ in range(4))
        while time.monotonic() - began < seconds or kills:
            now = time.monotonic()
            assert now - began < seconds * 4, "the workers did not start"
            if late_at and now >= late_at:
                live.append(start())  # started late
                late_at = 0.0
            running = [w for w in live if w.is_running() and w.lease_changes()]
            # A victim that runs, and another that runs to take over from it
            # (a kill waits for that).
            if kills and now - began >= kills[0] and len(running) >= 2:
                kills.pop(0)
                victim = rng.choice(running)
                victim.kill()
                live.remove(victim)
                live.append(start())
            time.sleep(0.01)
        writing.set()
        writer.join(30)
        if kill_a_connection is not None:
            killer.join(30)
        assert not errors
        caught_up(settings, worker_apps.system, timeout=60, workers=live)
        # Until it runs, a worker has not taken over SIGTERM.
        wait_for(lambda: all(w.is_running() for w in live), within=30)
        for worker in live:
            code, took = worker.terminate()
            assert code == 0, worker.out.read_text()[-2000:]
            assert took < 10  # not a poll interval (60 s on PostgreSQL) late
    finally:
        writing.set()
        for worker in workers:
            if worker.proc.poll() is None:  # pragma: no cover (a failed test)
                worker.proc.kill()
                worker.proc.wait(10)
    check_results(settings)

    holds = intervals(workers)
    assert sorted(holds) == [0, 1, 2, 3]
    for partition, spans in holds.items():
        spans.sort()
        for (_, ended, pid), (began_next, _, next_pid) in pairwise(spans):
            assert began_next >= ended, (partition, pid, next_pid, spans)
    killed = [w for w in workers if w.killed_at is not None]
    assert len(killed) == 4
    for victim in killed:
        assert victim.killed_at is not None
        for partition, spans in holds.items():
            if not any(
                pid == victim.proc.pid and ended == victim.killed_at
                for _, ended, pid in spans
            ):
                continue
            taken = min(s for s, _, _ in spans if s >= victim.killed_at)
            assert taken - victim.killed_at < TAKEOVER_WITHIN, (partition, spans)


@pytest.mark.postgres
def test_workers_killed_at_random_on_postgres_process_everything_exactly_once(
    postgres_env: dict[str, str], tmp_path: Path
) -> None:
    settings = {
        "INFRASTRUCTURE_FACTORY": "postgres",
        **postgres_env,
        "POSTGRES_SCHEMA": f"chaos_{os.getpid()}",
    }
    admin = admin_connection(postgres_env)
    killed: list[int] = []

    def kill_a_connection(rng: random.Random) -> None:
        """Ends a session that reads or writes events (a worker's, or the
        leader's), perhaps in the middle of a transaction."""
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name = 'eventsourcing'"
            )
            pids = [pid for (pid,) in cursor.fetchall()]
            if pids:
                pid = rng.choice(pids)
                cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
                killed.append(pid)

    try:
        chaos(settings, tmp_path, seconds=6, kill_a_connection=kill_a_connection)
    finally:
        admin.close()
    assert len(killed) >= 5


def test_workers_killed_at_random_on_sqlite_on_one_host_process_everything_once(
    tmp_path: Path,
) -> None:
    settings = {
        "INFRASTRUCTURE_FACTORY": "sqlite",
        "SQLITE_DBNAME": str(tmp_path / "db.sqlite"),
        "WORKER_POLL_INTERVAL": "0.05",
    }
    chaos(settings, tmp_path, seconds=5)


@pytest.mark.postgres
def test_a_killed_listening_connection_is_replaced_and_processing_goes_on(
    postgres_env: dict[str, str],
) -> None:
    settings = {
        "INFRASTRUCTURE_FACTORY": "postgres",
        **postgres_env,
        "POSTGRES_SCHEMA": f"listener_{os.getpid()}",
        # Only wake-ups get anything processed within the test.
        "WORKER_POLL_INTERVAL": "60",
        "WORKER_LEASE_INTERVAL": "0.1",
    }
    items = worker_apps.Items(env=settings)
    worker = Worker(worker_apps.system, "Results", settings)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        assert worker.ready.wait(30)

        def processed() -> int:
            app = cast(worker_apps.Results, worker.app)
            return app.recorder.max_notification_id()

        items.add(touches=1)
        wait_for(lambda: processed() == 2, within=5)
        pids = listener_pids(postgres_env)
        assert len(pids) == 1
        admin = admin_connection(postgres_env)
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", (pids[0],))
        items.add(touches=1)
        wait_for(lambda: processed() == 4, within=5)
        wait_for(lambda: len(listener_pids(postgres_env)) == 1, within=5)
        assert listener_pids(postgres_env) != pids
        started = time.monotonic()
        items.add(touches=0)
        wait_for(lambda: processed() == 5, within=5)
        assert time.monotonic() - started < 5  # woken again, not polled
        admin.close()
    finally:
        worker.stop()
        thread.join(30)
        items.close()


def wait_for(condition: Any, within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.01)


def admin_connection(postgres_env: dict[str, str]) -> Any:
    connection = psycopg2.connect(
        dbname=postgres_env["POSTGRES_DBNAME"],
        host=postgres_env["POSTGRES_HOST"],
        port=postgres_env["POSTGRES_PORT"],
        user=postgres_env["POSTGRES_USER"],
        password=postgres_env["POSTGRES_PASSWORD"],
    )
    connection.autocommit = True
    return connection


def listener_pids(postgres_env: dict[str, str]) -> list[int]:
    connection = admin_connection(postgres_env)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = 'eventsourcing listener' "
                "AND query LIKE 'LISTEN%%listener%%'"
            )
            return [pid for (pid,) in cursor.fetchall()]
    finally:
        connection.close()


@pytest.mark.postgres
def test_the_section_17_system_run_by_a_worker_ends_as_with_one_thread(
    postgres_env: dict[str, str], tmp_path: Path
) -> None:
    def commands(worlds: section17.WorldsApplication) -> None:
        world_ids = [worlds.create_world() for _ in range(3)]
        for world_id in world_ids:
            worlds.make_it_so(world_id, "dinosaurs")
        for world_id in world_ids[:2]:
            worlds.make_it_so(world_id, "trucks")
        worlds.make_it_so(world_ids[0], "internet")

    def state(settings: dict[str, str]) -> dict[str, Any]:
        with section17.Counters(env=settings) as counters:
            return {
                "counts": {
                    what: counters.get_count(what)
                    for what in ("dinosaurs", "trucks", "internet", "satellites")
                },
                "events": [
                    (n.originator_version, n.topic) for n in all_notifications(counters)
                ],
                "position": counters.recorder.max_tracking_id("WorldsApplication"),
            }

    base = {"INFRASTRUCTURE_FACTORY": "postgres", **postgres_env}
    one_thread = {**base, "POSTGRES_SCHEMA": f"one_thread_{os.getpid()}"}
    runner = SingleThreadedRunner(section17.system, env=one_thread)
    runner.start()
    commands(runner.get(section17.WorldsApplication))
    runner.stop()

    by_worker = {**base, "POSTGRES_SCHEMA": f"by_worker_{os.getpid()}"}
    worker = WorkerProcess(
        worker_env(by_worker),
        tmp_path / "counters.jsonl",
        topic="section17:system",
        app="Counters",
    )
    try:
        with section17.WorldsApplication(env=by_worker) as worlds:
            commands(worlds)
        caught_up(by_worker, section17.system, timeout=60, workers=[worker])
    finally:
        code, _ = worker.terminate()
    assert code == 0
    assert state(by_worker) == state(one_thread)
    assert state(by_worker)["counts"] == {
        "dinosaurs": 3,
        "trucks": 2,
        "internet": 1,
        "satellites": 0,
    }


PROJECTION_COMMAND = [
    "run-projection",
    "projection_views:Ledger",
    "projection_views:Entries",
    "projection_views:EntriesView",
    "--page-size",
    "10",
]


def projection_workers(settings: dict[str, str], tmp_path: Path) -> None:
    """Two projection workers of one view while the ledger writes: one processes
    and the other waits; SIGTERMed, the first exits 0 at once with its view in
    step with its position, and the second takes over; the second is killed
    (SIGKILL), and of two more, one resumes where the view stops, and the one
    waiting stops at once on SIGTERM too. No entry is missed or processed
    twice."""
    env = worker_env(settings)
    outputs = iter(tmp_path / f"projection{i}.jsonl" for i in range(10))

    def start() -> WorkerProcess:
        worker = WorkerProcess(
            env, next(outputs), app="Entries", command=PROJECTION_COMMAND
        )
        # Until it runs, a worker has not taken over SIGTERM.
        wait_for(lambda: worker.is_running() or worker.proc.poll() is not None, 30)
        assert worker.proc.poll() is None, worker.out.read_text()[-3000:]
        return worker

    def holds(worker: WorkerProcess) -> bool:
        changes = [c["lease_change"] for c in worker.lease_changes()]
        return changes[-1:] == ["acquired"]

    ledger = Ledger(env=settings)
    account_id = ledger.open()
    expected = [(ledger.enter(account_id, n), n) for n in range(1, 51)]
    view = construct_view(Entries, EntriesView, settings)
    writing = threading.Event()

    def write() -> None:
        with Ledger(env=settings) as writer:
            while not writing.is_set():
                amount = len(expected) + 1
                expected.append((writer.enter(account_id, amount), amount))
                time.sleep(0.005)

    workers = [start(), start()]
    try:
        wait_for(lambda: any(holds(w) for w in workers), within=10)
        first, second = sorted(workers, key=holds, reverse=True)
        assert not holds(second)
        view.wait("Ledger", expected[-1][0], timeout=30)
        found = projection_status(Ledger, Entries, EntriesView, settings)
        assert (found.owner, found.lag) == (
            f"{socket.gethostname()}:{first.proc.pid}",
            0,
        )
        # Woken by the commit (PostgreSQL's notifications, polled every 60 s, or
        # SQLite's polling every 0.05 s).
        started = time.monotonic()
        expected.append((ledger.enter(account_id, 0), 0))
        view.wait("Ledger", expected[-1][0], timeout=30)
        assert time.monotonic() - started < 10

        writer = threading.Thread(target=write)
        writer.start()
        try:
            time.sleep(0.3)
            code, took = first.terminate()
            assert code == 0, first.out.read_text()[-2000:]
            assert took < 10  # not a poll interval (60 s on PostgreSQL) late
            handed_over = in_step(view, expected)
            wait_for(lambda: holds(second), within=10)
            # Once it has committed (however long it took to start), at any
            # moment: what it committed is in step.
            wait_for(lambda: view.max_tracking_id("Ledger") > handed_over, 30)
            time.sleep(0.1)
            second.kill()
            position = in_step(view, expected)
        finally:
            writing.set()
            writer.join(30)
        assert position > handed_over  # the second went on where the first stopped

        workers += [start(), start()]
        wait_for(lambda: any(holds(w) for w in workers[2:]), within=10)
        third, standby = sorted(workers[2:], key=holds, reverse=True)
        view.wait("Ledger", expected[-1][0], timeout=30)
        assert view.rows() == sorted(expected)
        for worker in (standby, third):
            code, took = worker.terminate()
            assert code == 0, worker.out.read_text()[-2000:]
            assert took < 10  # not a poll interval (60 s on PostgreSQL) late
    finally:
        for worker in workers:
            if worker.proc.poll() is None:  # pragma: no cover (a failed test)
                worker.proc.kill()
                worker.proc.wait(10)
        ledger.close()
    assert all(r["level"] != "ERROR" for w in workers for r in w.records())


def in_step(view: EntriesView, expected: list[tuple[int, int]]) -> int:
    """The view holds exactly the rows of the entries up to its position, each
    once; returns the position."""
    # Read while nothing commits (a worker may be running): each commit moves
    # the position, so rows read between two equal positions are of that one.
    while True:
        position = view.max_tracking_id("Ledger")
        rows = view.rows()
        if view.max_tracking_id("Ledger") == position:
            break
    # The writer appends an entry to ``expected`` after its commit, which the
    # worker may project first.
    wait_for(lambda: expected[-1][0] >= position, within=10)
    assert rows == sorted(row for row in expected if row[0] <= position)
    return position


def test_projection_workers_on_sqlite_hand_over_and_resume_exactly(
    tmp_path: Path,
) -> None:
    settings = {
        "INFRASTRUCTURE_FACTORY": "sqlite",
        "SQLITE_DBNAME": str(tmp_path / "db.sqlite"),
        "WORKER_POLL_INTERVAL": "0.05",
    }
    projection_workers(settings, tmp_path)


@pytest.mark.postgres
def test_projection_workers_on_postgres_hand_over_and_resume_exactly(
    postgres_env: dict[str, str], tmp_path: Path
) -> None:
    settings = {
        "INFRASTRUCTURE_FACTORY": "postgres",
        **postgres_env,
        "POSTGRES_SCHEMA": f"projections_{os.getpid()}",
        # Only notifications get anything processed quickly.
        "WORKER_POLL_INTERVAL": "60",
    }
    projection_workers(settings, tmp_path)
