"""System figures: events processed per second from a leader's save to the
follower's recording, with each runner, and over HTTP; and the same leader
application saving on its own, for comparison.

The follower's policy saves nothing, so each processed notification is recorded
as the follower's tracking position only: the figures measure the system's own
costs (prompting, pulling, tracking), not a policy's work.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from bench_common import SQLITE_SYNCHRONOUS, Account, Config, best_rate, unique_name

from eventsourcing.application import Application
from eventsourcing.system import (
    Follower,
    Leader,
    MultiThreadedRunner,
    Runner,
    SingleThreadedRunner,
    System,
)


class BenchFollower(Follower):
    """Processes each notification by recording its position."""

    def policy(self, domain_event: Any, process_event: Any) -> None:
        pass


def save_accounts(app: Application, m: int) -> None:
    """Create ``m`` accounts and credit each 9 times, saving after each change."""
    for _ in range(m):
        account = Account.create()
        app.save(account)
        for i in range(9):
            account.credit(i)
            app.save(account)


def classes() -> tuple[type[Application], type[BenchFollower]]:
    leader = type("BenchLeader", (Application,), {"name": unique_name("leader")})
    follower = type("BenchFollower", (BenchFollower,), {"name": unique_name("follow")})
    return leader, follower


def close(*apps: Application) -> None:
    for app in apps:
        close = getattr(app.factory, "close", None)
        if close is not None:
            close()


def alone(env: dict[str, str], cfg: Config) -> float:
    """Events/s saved by the leader application on its own."""
    leader_cls, _ = classes()
    app = leader_cls(env=env)
    m = cfg.system_aggregates
    started = time.perf_counter()
    save_accounts(app, m)
    seconds = time.perf_counter() - started
    close(app)
    return 10 * m / seconds


def with_runner(env: dict[str, str], cfg: Config, runner_cls: type[Runner]) -> float:
    """Events/s from the leader's saves to the follower's tracking, in a runner."""
    leader_cls, follower_cls = classes()
    runner = runner_cls(System(pipes=[[leader_cls, follower_cls]]), env=env)
    runner.start()
    try:
        leader = runner.get(leader_cls)
        follower = runner.get(follower_cls)
        m = cfg.system_aggregates
        started = time.perf_counter()
        save_accounts(leader, m)
        if isinstance(runner, MultiThreadedRunner):
            runner.wait(timeout=120)
        seconds = time.perf_counter() - started
        processed = follower.recorder.max_tracking_id(leader.name)
        assert processed == 10 * m, (processed, 10 * m)
        apps = [leader, follower]
    finally:
        runner.stop()
    close(*apps)
    return 10 * m / seconds


def over_http(env: dict[str, str], cfg: Config) -> tuple[float, float]:
    """Events/s with the follower reading the leader's log over HTTP: prompted
    after each save, and catching up with a backlog."""
    from eventsourcing.interface import (
        HTTPNotificationLogInterface,
        NotificationLogJSONClient,
        NotificationLogJSONService,
        make_notification_log_server,
    )

    leader_cls, follower_cls = classes()
    leader_cls = type("BenchLeader", (Leader, leader_cls), {"name": leader_cls.name})
    leader = leader_cls(env=env)
    assert isinstance(leader, Leader)
    server = make_notification_log_server(NotificationLogJSONService(leader))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        follower = follower_cls(env=env)
        log = NotificationLogJSONClient(HTTPNotificationLogInterface(url))
        follower.follow(leader.name, log)
        leader.lead(follower)
        m = cfg.system_aggregates
        started = time.perf_counter()
        save_accounts(leader, m)
        prompted = 10 * m / (time.perf_counter() - started)
        assert follower.recorder.max_tracking_id(leader.name) == 10 * m
        # A backlog: saved without prompting, then pulled in sections (of the
        # follower's pull_section_size).
        leader.followers.clear()
        save_accounts(leader, m)
        started = time.perf_counter()
        follower.pull_and_process(leader.name)
        catch_up = 10 * m / (time.perf_counter() - started)
        assert follower.recorder.max_tracking_id(leader.name) == 20 * m
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    close(leader, follower)
    return prompted, catch_up


def raw_sqlite(cfg: Config, *, memory: bool) -> dict[str, float]:
    """The floor of a system on SQLite: the statements of a leader's saves, and
    of a follower's processing (read the notification, write its position), with
    sqlite3 and the library's tables, connections (one per
    application) and pragmas, but no Python work besides."""
    from bench_persistence import SQLITE_TABLE, raw_rows

    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = ":memory:" if memory else os.path.join(tmp, "raw.db")

        def connect() -> sqlite3.Connection:
            db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            if not memory:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
            return db

        leader, follower = connect(), connect()
        leader.execute(SQLITE_TABLE)
        follower.execute(
            "CREATE TABLE tracking (application_name TEXT NOT NULL, "
            "notification_id INTEGER NOT NULL, "
            "PRIMARY KEY (application_name, notification_id)) WITHOUT ROWID"
        )
        insert = (
            "INSERT INTO events (originator_id, originator_version, topic, state)"
            " VALUES (?, ?, ?, ?)"
        )
        n = 10 * cfg.system_aggregates

        def save(row: tuple[UUID, int, str, bytes]) -> None:
            leader.execute("BEGIN IMMEDIATE")
            leader.executemany(insert, [(str(row[0]), *row[1:])])
            leader.execute("COMMIT")

        position = [0]

        def process(name: str) -> None:
            # Like the library's follower: its position is kept in memory, the
            # notifications are read in sections of up to 100, and a position
            # alone is recorded with one (autocommit) statement.
            rows = leader.execute(
                "SELECT notification_id, originator_id, originator_version, topic,"
                " state FROM events WHERE notification_id >= ?"
                " ORDER BY notification_id LIMIT ?",
                (position[0] + 1, 100),
            ).fetchall()
            for row in rows:
                (UUID(row[1]), row)
                follower.execute(
                    "INSERT INTO tracking (application_name, notification_id)"
                    " VALUES (?, ?)",
                    (name, row[0]),
                )
                position[0] = row[0]

        def alone_work() -> Callable[[], None]:
            rows = raw_rows(n)

            def run() -> None:
                for row in rows:
                    save(row)

            return run

        def system_work() -> Callable[[], None]:
            rows = raw_rows(n)
            name = unique_name("leader")
            # The follower starts at the end of the log, like a new follower of
            # a new leader.
            (top,) = leader.execute(
                "SELECT MAX(notification_id) FROM events"
            ).fetchone()
            follower.execute("INSERT INTO tracking VALUES (?, ?)", (name, top or 0))
            position[0] = top or 0

            def run() -> None:
                for row in rows:
                    save(row)
                    process(name)

            return run

        results["leader alone"] = best_rate(cfg.repeats, n, alone_work)
        results["single-threaded"] = best_rate(cfg.repeats, n, system_work)
        leader.close()
        follower.close()
    return results


def library(env: dict[str, str], cfg: Config) -> dict[str, float]:
    results: dict[str, float] = {}
    best = max
    results["leader alone"] = best(alone(env, cfg) for _ in range(cfg.repeats))
    results["single-threaded"] = best(
        with_runner(env, cfg, SingleThreadedRunner) for _ in range(cfg.repeats)
    )
    results["multi-threaded"] = best(
        with_runner(env, cfg, MultiThreadedRunner) for _ in range(cfg.repeats)
    )
    http = [over_http(env, cfg) for _ in range(cfg.repeats)]
    results["http prompted"] = max(p for p, _ in http)
    results["http catch-up"] = max(c for _, c in http)
    return results
