"""Projections on every installed backend: the view is in step with the log, never
ahead of nor behind its position, whatever stops it (an error between its
statements and its position, a process killed), however many write while it
tails; ``wait()`` gives read-your-writes; a topic filter never reads the state of
other events."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from harness import installed_backends, outlives_process
from projection_views import (
    Account,
    Entries,
    EntriesView,
    Ledger,
    view_env,
)

from eventsourcing.persistence import UnreadableRecordError
from eventsourcing.projection import (
    ApplicationSubscription,
    ProjectionFailed,
    ProjectionRunner,
    construct_view,
)
from eventsourcing.system import MultiThreadedRunner, SingleThreadedRunner, System
from eventsourcing.utils import get_topic

HERE = Path(__file__).resolve().parent


@pytest.fixture
def env(backend_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return view_env(backend_env, str(tmp_path / "views.db"))


def entries(ledger: Ledger, account_id: Any, amounts: range) -> list[tuple[int, int]]:
    """Enters the amounts; returns the rows the view should have for them."""
    return [(ledger.enter(account_id, amount), amount) for amount in amounts]


def check_in_step(view: EntriesView, expected: list[tuple[int, int]]) -> int:
    """The view holds exactly the rows of the entries up to its position."""
    position = view.max_tracking_id("Ledger")
    assert view.rows() == [row for row in expected if row[0] <= position]
    return position


def test_the_view_is_in_step_with_the_log_and_read_your_writes_works(
    env: dict[str, str],
) -> None:
    with ProjectionRunner(Ledger, Entries, EntriesView, env) as runner:
        ledger = runner.app
        account_id = ledger.open()
        expected = entries(ledger, account_id, range(1, 6))
        runner.wait(expected[-1][0], timeout=10)
        assert runner.view.rows() == expected
        # Of another topic: not projected, and still waited for.
        runner.wait(ledger.note(account_id, "audited"), timeout=10)
        assert runner.view.max_tracking_id("Ledger") == expected[-1][0] + 1


def test_wait_returns_as_soon_as_the_save_is_processed(env: dict[str, str]) -> None:
    # Polled every 5 seconds: a wait that returns sooner was woken by the commit.
    with ProjectionRunner(Ledger, Entries, EntriesView, env, poll_interval=5) as runner:
        ledger = runner.app
        account_id = ledger.open()
        latencies = []
        for amount in range(10):
            notification_id = ledger.enter(account_id, amount)
            started = time.perf_counter()
            runner.wait(notification_id, timeout=10)
            latencies.append(time.perf_counter() - started)
        # Much less than the poll interval, on a busy machine.
        assert sorted(latencies)[len(latencies) // 2] < 1.0, latencies


def test_wait_times_out_with_an_error_naming_the_application_and_ids(
    env: dict[str, str],
) -> None:
    with ProjectionRunner(Ledger, Entries, EntriesView, env) as runner:
        notification_id = runner.app.open()
        runner.wait(1, timeout=10)
        started = time.monotonic()
        with pytest.raises(TimeoutError) as raised:
            runner.view.wait("Ledger", 5, timeout=0.1)
        assert time.monotonic() - started >= 0.1
        assert notification_id is not None
        message = str(raised.value)
        assert "notification 5 of 'Ledger'" in message
        assert "processed up to notification 1" in message


def test_an_error_between_statements_and_position_resumes_where_the_view_stops(
    env: dict[str, str],
) -> None:
    ledger = Ledger(env=env)
    account_id = ledger.open()
    expected = entries(ledger, account_id, range(1, 21))
    runner = ProjectionRunner(ledger, Entries, EntriesView, env, page_size=4)
    runner.view.fail_at = expected[9][0]  # its row is written, then it fails
    runner.start()
    with pytest.raises(ProjectionFailed, match="killed after the row"):
        runner.run_forever(timeout=30)
    position = check_in_step(runner.view, expected)
    assert 0 < position < expected[9][0]
    runner.close()

    with ProjectionRunner(ledger, Entries, EntriesView, env) as resumed:
        resumed.wait(expected[-1][0], timeout=10)
        assert resumed.view.rows() == expected
    ledger.close()


def test_concurrent_writers_while_a_projection_tails_miss_nothing_and_repeat_nothing(
    env: dict[str, str],
) -> None:
    writers, per_writer = 4, 15
    with ProjectionRunner(Ledger, Entries, EntriesView, env, page_size=7) as runner:
        ledger = runner.app
        accounts = [ledger.open() for _ in range(writers)]
        rows: list[tuple[int, int]] = []
        lock = threading.Lock()
        errors: list[BaseException] = []

        def write(account_id: Any, base: int) -> None:
            try:
                for amount in range(base, base + per_writer):
                    notification_id = ledger.enter(account_id, amount)
                    with lock:
                        rows.append((notification_id, amount))
            except BaseException as error:  # pragma: no cover (only on failure)
                errors.append(error)

        threads = [
            threading.Thread(target=write, args=(account_id, 1000 * i))
            for i, account_id in enumerate(accounts)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        runner.wait(ledger.recorder.max_notification_id(), timeout=30)
        assert runner.view.rows() == sorted(rows)
        assert len(rows) == writers * per_writer


DURABLE = [b for b in installed_backends() if outlives_process(b)]


@pytest.mark.parametrize("backend", DURABLE)
def test_two_runners_of_one_view_process_each_entry_once(env: dict[str, str]) -> None:
    ledger = Ledger(env=env)
    account_id = ledger.open()
    first = ProjectionRunner(ledger, Entries, EntriesView, env, page_size=3)
    second = ProjectionRunner(ledger, Entries, EntriesView, env, page_size=5)
    first.start()
    second.start()
    try:
        expected = entries(ledger, account_id, range(1, 41))
        first.wait(expected[-1][0], timeout=30)
        second.wait(expected[-1][0], timeout=30)
        assert first.view.rows() == expected
    finally:
        first.close()
        second.close()
        ledger.close()


def corrupt_other_topics(ledger: Ledger, backend: str, topic: str) -> None:
    """Spoils the state of every event not of ``topic``: reading it would fail."""
    recorder: Any = ledger.recorder
    if backend == "popo":
        recorder._notifications[:] = [
            n if n.topic == topic else type(n)(**{**vars(n), "state": b"spoilt"})
            for n in recorder._notifications
        ]
    elif backend == "sqlite":
        with recorder.datastore.transaction(write=True) as connection:
            connection.execute(
                f"UPDATE {recorder.events_table_name} SET state = x'00' "
                "WHERE topic != ?",
                (topic,),
            )
    else:
        statement = recorder.events_table.as_string
        recorder.datastore.write(
            lambda cursor: cursor.execute(
                f"UPDATE {statement(cursor)} SET state = '\\x00' WHERE topic != %s",
                (topic,),
            )
        )


# The backends whose stored states the test can spoil.
@pytest.mark.parametrize("backend", ["popo", "sqlite", "postgres"])
def test_a_topic_filter_skips_other_events_without_reading_their_state(
    backend: str, env: dict[str, str]
) -> None:
    ledger = Ledger(env=env)
    account_id = ledger.open()
    for amount in range(3):
        ledger.note(account_id, "noise")
        ledger.enter(account_id, amount)
    ledger.note(account_id, "noise")
    corrupt_other_topics(ledger, backend, get_topic(Account.Entered))
    fetched = count_rows_fetched(ledger, backend)

    with ApplicationSubscription(ledger, topics=[Account.Entered]) as subscription:
        page, position, caught_up = subscription.read_page()
    assert [vars(e)["amount"] for e, _ in page] == [0, 1, 2]
    assert (position, caught_up) == (ledger.recorder.max_notification_id(), True)
    if fetched is not None:
        assert fetched == [3]  # the database returned the entries only

    with (
        pytest.raises(UnreadableRecordError),
        ApplicationSubscription(ledger) as everything,
    ):
        everything.read_page()
    ledger.close()


def count_rows_fetched(ledger: Ledger, backend: str) -> list[int] | None:
    """Counts the rows the database returns to each topic query of the recorder."""
    recorder: Any = ledger.recorder
    counts: list[int] = []
    if backend == "sqlite":
        datastore = recorder.datastore
        fetchall = datastore.fetchall

        def counting_fetchall(sql: str, params: Any = ()) -> list[Any]:
            rows: list[Any] = fetchall(sql, params)
            if "topic IN" in sql:
                counts.append(len(rows))
            return rows

        datastore.fetchall = counting_fetchall
        return counts
    if backend == "postgres":
        datastore = recorder.datastore
        read = datastore.read

        def counting_read(operation: Any) -> Any:
            def counted(cursor: Any) -> Any:
                result = operation(cursor)
                if b"ANY(" in (cursor.query or b""):
                    counts.append(cursor.rowcount)
                return result

            return read(counted)

        datastore.read = counting_read
        return counts
    return None


@pytest.mark.parametrize("runner_cls", [SingleThreadedRunner, MultiThreadedRunner])
def test_the_system_runners_run_projections(
    env: dict[str, str], runner_cls: type[SingleThreadedRunner | MultiThreadedRunner]
) -> None:
    runner = runner_cls(System(pipes=[[Ledger]]), env=env)
    runner.add_projection(Ledger, Entries, EntriesView)
    runner.start()
    try:
        ledger = runner.get(Ledger)
        expected = entries(ledger, ledger.open(), range(1, 4))
        if isinstance(runner, MultiThreadedRunner):
            runner.wait(timeout=30)
        assert runner.get_view(Entries).rows() == expected
    finally:
        runner.stop()


# A process killed by SIGKILL: only durable views that other processes share.
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_projection_process_killed_resumes_exactly_where_its_view_stops(
    env: dict[str, str],
) -> None:
    ledger = Ledger(env=env)
    account_id = ledger.open()
    expected = entries(ledger, account_id, range(1, 201))
    view = construct_view(Entries, EntriesView, env)
    # Two seconds' work for 200 entries, so the kill lands in the middle of it
    # however late this process sees the first commit.
    with child_projection(env, delay=0.01) as child:
        deadline = time.monotonic() + 30
        while view.max_tracking_id("Ledger") == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    position = check_in_step(view, expected)
    assert 0 < position < expected[-1][0], "killed before it started, or after"

    with ProjectionRunner(ledger, Entries, EntriesView, env) as resumed:
        resumed.wait(expected[-1][0], timeout=30)
        assert resumed.view.rows() == expected
    ledger.close()


class child_projection:  # noqa: N801 (used as a context manager, like open())
    """A process running the projection of the ledger, killed at the end."""

    def __init__(self, env: dict[str, str], delay: float) -> None:
        code = "import sys, projection_views; projection_views.main(sys.argv[1:])"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, json.dumps(env), str(delay)],
            env={**os.environ, "PYTHONPATH": str(HERE)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def __enter__(self) -> subprocess.Popen[str]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line == "running\n", line + self.process.stderr.read()  # type: ignore[union-attr]
        return self.process

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
