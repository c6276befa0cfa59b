"""Projection workers, run in threads of the test process on SQLite: one at a
time holds the projection's lease and processes, the others wait to take over;
they wake when the application commits, stop after the event in hand, survive
lost connections and leases; and their commands, ``run-projection`` and
``projection-status``. (Workers in processes of their own are tested in
tests-integration/test_workers.py.)"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, cast
from unittest import mock

import pytest

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import (
    ConfigurationError,
    InfrastructureFactory,
    InterfaceError,
    Leases,
    OperationalError,
    Tracking,
)
from eventsourcing.projection import (
    Projection,
    ProjectionProcessor,
    ProjectionStatus,
    ProjectionWorker,
    construct_view,
    projection_status,
)
from eventsourcing.projection._projection import _construct_view
from eventsourcing.projection._worker import projection_lease
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.sqlite._leases import FileLeases
from eventsourcing.system._commands import main

ME = f"{socket.gethostname()}:{os.getpid()}"


class Note(Aggregate):
    def __init__(self, n: int) -> None:
        self.n = n


class Notebook(Application):
    def write(self, *numbers: int) -> int:
        """Saves a note of each number; returns the last notification ID."""
        recordings = self.save(*(Note(n) for n in numbers))
        return recordings[-1].notification.id


class SeenView(SQLiteTrackingRecorder):
    """One row for each note seen, so that a note seen twice shows twice."""

    def create_table_statements(self) -> list[str]:
        return [
            *super().create_table_statements(),
            (
                f"CREATE TABLE IF NOT EXISTS {self.table('rows')} "
                "(notification_id INTEGER NOT NULL, n INTEGER NOT NULL)"
            ),
        ]

    def add(self, notification_id: int, n: int) -> None:
        with self.transaction() as connection:
            connection.execute(
                f"INSERT INTO {self.table('rows')} VALUES (?, ?)", (notification_id, n)
            )

    def rows(self) -> list[int]:
        return [
            n
            for (n,) in self.datastore.fetchall(
                f"SELECT notification_id FROM {self.table('rows')} "
                "ORDER BY notification_id"
            )
        ]


class Seen(Projection[SeenView]):
    # Called before each event (set by a test): to fail, or to stop a worker.
    before: ClassVar[Callable[[int], None] | None] = None
    processed: ClassVar[list[tuple[int, int]]] = []  # (thread ID, notification ID)

    def process_event(self, domain_event: DomainEvent[Any], tracking: Tracking) -> None:
        if type(self).before is not None:
            type(self).before(tracking.notification_id)  # type: ignore[misc]
        type(self).processed.append((threading.get_ident(), tracking.notification_id))
        assert isinstance(domain_event, Note.Created)
        self.view.add(tracking.notification_id, cast(Any, domain_event).n)


@pytest.fixture(autouse=True)
def fresh_projection() -> Iterator[None]:
    Seen.before = None
    Seen.processed = []
    yield
    Seen.before = None


def sqlite_env(path: Path, **settings: str) -> dict[str, str]:
    return {
        "INFRASTRUCTURE_FACTORY": "sqlite",
        "SQLITE_DBNAME": str(path),
        "WORKER_POLL_INTERVAL": "0.05",
        "WORKER_LEASE_INTERVAL": "0.05",
        **settings,
    }


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return sqlite_env(tmp_path / "db")


def worker_of(env: dict[str, str], **kwargs: Any) -> ProjectionWorker[Any, SeenView]:
    return ProjectionWorker(Notebook, Seen, SeenView, env, **kwargs)


class Running:
    """A worker run in a thread; ``error`` is what its run() raised."""

    def __init__(self, worker: ProjectionWorker[Any, Any]) -> None:
        self.worker = worker
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.worker.run()
        except BaseException as error:
            self.error = error

    def start(self) -> Running:
        self.thread.start()
        eventually(lambda: self.worker.ready.is_set() or not self.thread.is_alive())
        return self

    def stop(self) -> None:
        self.worker.stop()
        self.thread.join(10)
        assert not self.thread.is_alive()


@contextlib.contextmanager
def running(*workers: ProjectionWorker[Any, Any]) -> Iterator[list[Running]]:
    started = [Running(w).start() for w in workers]
    try:
        yield started
    finally:
        for r in started:
            r.stop()
    for r in started:
        if r.error is not None:
            raise r.error


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.005)


def is_stopped(worker: ProjectionWorker[Any, Any]) -> bool:
    """Whether the worker has no application or view (it is not running)."""
    return worker.app is None and worker.view is None


def view_of(env: dict[str, str]) -> SeenView:
    return construct_view(Seen, SeenView, env)


def test_a_worker_projects_the_log_and_wakes_when_the_application_commits(
    env: dict[str, str],
) -> None:
    env = {**env, "WORKER_POLL_INTERVAL": "30"}
    notebook = Notebook(env=env)
    notebook.write(1, 2, 3)
    worker = worker_of(env)
    assert is_stopped(worker)
    assert repr(worker) == f"ProjectionWorker('Seen', {ME!r})"
    with running(worker):
        assert worker.view is not None
        assert worker.app is not None
        assert worker.app.name == "Notebook"
        worker.view.wait("Notebook", 3, timeout=30)
        assert worker.holding.is_set()
        started = time.monotonic()
        last = notebook.write(4)
        worker.view.wait("Notebook", last, timeout=30)
        assert time.monotonic() - started < 15  # woken, not polled (30 s)
        assert worker.view.rows() == [1, 2, 3, 4]
    assert is_stopped(worker)
    assert not worker.holding.is_set()
    assert worker.poll_interval == 30


def test_a_second_worker_waits_and_takes_over_where_the_first_stopped(
    env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    notebook = Notebook(env=env)
    view = view_of(env)
    first, second = worker_of(env), worker_of(env)
    with caplog.at_level(logging.INFO, "eventsourcing.projection"), running(first):
        view.wait("Notebook", notebook.write(1, 2), timeout=30)
        with running(second):
            time.sleep(0.2)  # a few lease rounds, in which it must not process
            assert not second.holding.is_set()
            view.wait("Notebook", notebook.write(3), timeout=30)
            first.stop()
            eventually(second.holding.is_set)
            view.wait("Notebook", notebook.write(4), timeout=30)
    assert view.rows() == [1, 2, 3, 4]
    threads = {thread for thread, _ in Seen.processed}
    assert len(threads) == 2
    lease = projection_lease("Seen", "Notebook")
    waits = [r for r in caplog.records if "waits" in r.getMessage()]
    assert [r.getMessage() for r in waits] == [
        f"Projection worker {ME} of Seen waits: {ME} holds {lease!r}"
    ]
    changes = [getattr(r, "lease_change", None) for r in caplog.records]
    assert [c for c in changes if c] == ["acquired", "released", "acquired", "released"]


def test_a_waiting_worker_that_cannot_tell_who_holds_the_lease_says_so(
    env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with running(worker_of(env)) as (first,):
        eventually(first.worker.holding.is_set)
        with (
            mock.patch.object(FileLeases, "holder", return_value=None),
            caplog.at_level(logging.INFO, "eventsourcing.projection"),
            running(worker_of(env)),
        ):
            eventually(lambda: "waits" in caplog.text)
    assert "waits: another worker holds 'Seen/projection/Notebook'" in caplog.text


def test_stopping_records_the_event_in_hand_and_no_more(env: dict[str, str]) -> None:
    notebook = Notebook(env=env)
    notebook.write(*range(10))  # one page
    worker = worker_of(env)
    Seen.before = lambda notification_id: (
        worker.stop() if notification_id == 3 else None
    )
    with running(worker):
        eventually(lambda: not worker.ready.is_set())
    view = view_of(env)
    assert view.rows() == [1, 2, 3]
    assert view.max_tracking_id("Notebook") == 3
    Seen.before = None
    with running(worker_of(env)):
        view.wait("Notebook", 10, timeout=30)
    assert view.rows() == list(range(1, 11))


def test_a_stopped_processor_records_the_event_in_hand_and_reads_on_after_it(
    env: dict[str, str],
) -> None:
    notebook = Notebook(env=env)
    notebook.write(*range(10))
    view = view_of(env)
    processor = ProjectionProcessor(notebook, Seen(view))
    Seen.before = lambda notification_id: (
        processor.stop() if notification_id == 4 else None
    )
    assert processor.process_page() is False  # more to do: stopped in the page
    assert (processor.position, processor.subscription.position) == (4, 4)
    assert view.rows() == [1, 2, 3, 4]
    processor.close()


def test_a_worker_stopped_while_it_makes_its_processor_processes_nothing(
    env: dict[str, str],
) -> None:
    Notebook(env=env).write(1)
    worker = worker_of(env)

    class Stops(Seen):
        name = "Seen"

        def __init__(self, view: SeenView) -> None:
            super().__init__(view)
            worker.stop()

    worker.projection_class = Stops
    with running(worker):
        eventually(lambda: not worker.ready.is_set())
    assert view_of(env).rows() == []


@contextlib.contextmanager
def sigterm_when(condition: Callable[[], bool]) -> Iterator[None]:
    """Sends this process SIGTERM once ``condition`` holds (the work is done, so
    the worker runs and handles the signal), however slow the machine is."""

    def terminate() -> None:
        try:
            eventually(condition, timeout=60)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=terminate, daemon=True)
    thread.start()
    yield
    thread.join()


def projected(env: dict[str, str], rows: list[int]) -> Callable[[], bool]:
    view = view_of(env)
    return lambda: view.rows() == rows


def test_sigterm_stops_a_worker_run_in_the_main_thread(env: dict[str, str]) -> None:
    Notebook(env=env).write(1, 2)
    worker = worker_of(env)
    before = signal.getsignal(signal.SIGTERM)
    with sigterm_when(projected(env, [1, 2])):
        worker.run()
    assert signal.getsignal(signal.SIGTERM) is before
    assert view_of(env).rows() == [1, 2]


def test_a_second_sigint_interrupts_at_once(env: dict[str, str]) -> None:
    Notebook(env=env).write(1, 2)

    def twice(notification_id: int) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # finish, please
        os.kill(os.getpid(), signal.SIGINT)  # no: now

    Seen.before = twice
    with pytest.raises(KeyboardInterrupt):
        worker_of(env).run()
    assert view_of(env).max_tracking_id("Notebook") == 0


def test_signals_are_left_alone_when_asked(env: dict[str, str]) -> None:
    worker = worker_of(env)
    before = signal.getsignal(signal.SIGTERM)
    seen: list[Any] = []

    def check() -> None:
        seen.append(signal.getsignal(signal.SIGTERM))
        worker.stop()

    timer = threading.Timer(0.3, check)
    timer.start()
    worker.run(handle_signals=False)
    timer.join()
    assert seen == [before]


def test_a_database_error_is_retried_from_the_views_position(
    env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    notebook = Notebook(env=env)
    notebook.write(1, 2)
    failures = iter([OperationalError("the database went away")])

    def fail_once(notification_id: int) -> None:
        error = next(failures, None)
        if error is not None:
            raise error

    Seen.before = fail_once
    worker = worker_of(env)
    with caplog.at_level(logging.WARNING, "eventsourcing.projection"), running(worker):
        assert worker.view is not None
        worker.view.wait("Notebook", 2, timeout=30)
        assert worker.view.rows() == [1, 2]
    assert "could not process the log (the database went away)" in caplog.text


def test_an_error_of_the_projection_stops_the_worker_and_frees_its_lease(
    env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    Notebook(env=env).write(1)

    def fail(notification_id: int) -> None:
        msg = "a bug"
        raise RuntimeError(msg)

    Seen.before = fail
    worker = worker_of(env)
    with caplog.at_level(logging.ERROR), pytest.raises(RuntimeError, match="a bug"):
        worker.run(handle_signals=False)
    assert f"Projection worker {ME} of Seen failed" in caplog.text
    leases = view_leases(env)
    assert leases.try_acquire(projection_lease("Seen", "Notebook"))
    leases.close()


def view_leases(env: dict[str, str]) -> Leases:
    """The leases of the view's database, as the worker takes them."""
    return InfrastructureFactory.construct("Seen", env=env).leases()


def test_a_lost_lease_stops_processing_until_it_is_taken_again(
    env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    notebook = Notebook(env=env)
    view = view_of(env)
    worker = worker_of(env)
    lease = projection_lease("Seen", "Notebook")
    with caplog.at_level(logging.INFO, "eventsourcing.projection"), running(worker):
        eventually(worker.holding.is_set)
        view.wait("Notebook", notebook.write(1), timeout=30)
        # As when a connection holding the lease is lost, and another takes it.
        # The worker may look again between the two steps: until the other holds
        # the lease, it is told the lease is taken, or it could win it back first.
        other = view_leases(env)
        with mock.patch.object(worker._leases, "try_acquire", return_value=False):
            worker._leases.release(lease)
            assert other.try_acquire(lease)
        eventually(lambda: not worker.holding.is_set())
        notebook.write(2)
        time.sleep(0.2)
        assert view.rows() == [1]
        other.close()
        eventually(worker.holding.is_set)
        view.wait("Notebook", 2, timeout=30)
    assert view.rows() == [1, 2]
    assert f"Projection worker {ME} of Seen lost its lease" in caplog.text


def test_a_failing_lease_check_is_tried_again_while_processing_goes_on(
    env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    notebook = Notebook(env=env)
    worker = worker_of(env)
    with caplog.at_level(logging.WARNING, "eventsourcing.projection"), running(worker):
        eventually(worker.holding.is_set)
        with mock.patch.object(
            FileLeases, "held", side_effect=OperationalError("no connection")
        ):
            eventually(lambda: "could not check its lease" in caplog.text)
            assert worker.view is not None
            worker.view.wait("Notebook", notebook.write(1), timeout=30)
        assert worker.holding.is_set()


def test_an_interval_that_is_not_a_number_of_seconds_is_refused(
    env: dict[str, str],
) -> None:
    worker = worker_of({**env, "SEEN_WORKER_LEASE_INTERVAL": "soon"})
    with pytest.raises(ConfigurationError, match="WORKER_LEASE_INTERVAL='soon'"):
        worker.run()


def test_intervals_are_one_second_by_default(tmp_path: Path) -> None:
    worker = worker_of(
        {"INFRASTRUCTURE_FACTORY": "sqlite", "SQLITE_DBNAME": ":memory:"}
    )
    timer = threading.Timer(0.2, worker.stop)
    timer.start()
    worker.run()
    timer.join()
    assert (worker.poll_interval, worker.lease_interval) == (1.0, 1.0)


def test_an_application_that_cannot_be_constructed_is_raised(
    env: dict[str, str],
) -> None:
    worker = worker_of({**env, "INFRASTRUCTURE_FACTORY": "nosuchbackend"})
    with pytest.raises(ConfigurationError, match="nosuchbackend"):
        worker.run()


def test_a_worker_runs_once_and_only_projections(env: dict[str, str]) -> None:
    worker = worker_of(env)
    timer = threading.Timer(0.1, worker.stop)
    timer.start()
    worker.run()
    timer.join()
    with pytest.raises(RuntimeError, match="has run already"):
        worker.run()
    with pytest.raises(TypeError, match="is not a projection class"):
        ProjectionWorker(Notebook, SeenView, SeenView, env)  # type: ignore[arg-type]


def test_a_worker_given_an_application_leaves_it_open(env: dict[str, str]) -> None:
    notebook = Notebook(env=env)
    worker: ProjectionWorker[Notebook, SeenView] = ProjectionWorker(
        notebook, Seen, SeenView, env
    )
    with running(worker):
        assert worker.app is notebook
        assert worker.view is not None
        worker.view.wait("Notebook", notebook.write(1), timeout=30)
    assert notebook.write(2) == 2  # still open


# Status, and the commands.


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


TOPICS = [f"{__name__}:Notebook", f"{__name__}:Seen", f"{__name__}:SeenView"]


def env_args(env: dict[str, str]) -> list[str]:
    return [arg for name, value in env.items() for arg in ("--env", f"{name}={value}")]


def test_the_status_of_a_projection_is_its_owner_position_and_lag(
    env: dict[str, str],
) -> None:
    notebook = Notebook(env=env)
    notebook.write(1, 2, 3)
    found = projection_status(Notebook, Seen, SeenView, env)
    assert found == ProjectionStatus("Seen", "Notebook", None, 0, 3, 3)
    assert found.unhealthy(max_lag=2) == [
        "projection Seen of Notebook is run by no worker",
        "projection Seen of Notebook lags by 3 (more than 2)",
    ]
    with running(worker_of(env)) as (r,):
        eventually(r.worker.holding.is_set)
        view_of(env).wait("Notebook", 3, timeout=30)
        found = projection_status(Notebook, Seen, SeenView, env)
    assert found.to_dict() == {
        "projection": "Seen",
        "application": "Notebook",
        "owner": ME,
        "position": 3,
        "last": 3,
        "lag": 0,
    }
    assert found.unhealthy() == []
    assert found.unhealthy(max_lag=0) == []


def test_the_run_projection_command_runs_a_worker_until_sigterm(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    Notebook(env=env).write(1, 2)
    with sigterm_when(projected(env, [1, 2])):
        code, out, _ = run_main(
            capsys,
            "run-projection",
            *TOPICS,
            "--page-size",
            "1",
            "--json",
            *env_args(env),
        )
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    changes = [
        (r["lease_change"], r["projection"], r["app"], r["worker"])
        for r in records
        if "lease_change" in r
    ]
    assert changes == [
        ("acquired", "Seen", "Notebook", ME),
        ("released", "Seen", "Notebook", ME),
    ]
    assert any("stops (SIGTERM)" in r["message"] for r in records)
    assert view_of(env).rows() == [1, 2]


def test_the_projection_status_command_is_a_table_lines_and_a_health_check(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    Notebook(env=env).write(1, 2)
    code, out, _ = run_main(capsys, "projection-status", *TOPICS, *env_args(env))
    assert code == 0
    assert "Projections" in out
    assert "Seen" in out
    code, out, _ = run_main(
        capsys, "projection-status", *TOPICS, "--json", *env_args(env)
    )
    assert (
        json.loads(out) == ProjectionStatus("Seen", "Notebook", None, 0, 2, 2).to_dict()
    )
    code, out, _ = run_main(
        capsys, "projection-status", *TOPICS, "--max-lag", "5", *env_args(env)
    )
    assert code == 3
    assert "unhealthy: projection Seen of Notebook is run by no worker" in out
    with running(worker_of(env)) as (r,):
        eventually(r.worker.holding.is_set)
        view_of(env).wait("Notebook", 2, timeout=30)
        code, _, _ = run_main(
            capsys, "projection-status", *TOPICS, "--max-lag", "0", *env_args(env)
        )
    assert code == 0


@pytest.mark.parametrize(
    ("position", "topic", "expected"),
    [
        (0, f"{__name__}:Note", "not an application class"),
        (1, f"{__name__}:Notebook", "not a projection class"),
        (2, f"{__name__}:ME", "not a view class"),
    ],
)
def test_topics_that_name_the_wrong_kind_of_class_are_refused(
    capsys: pytest.CaptureFixture[str], position: int, topic: str, expected: str
) -> None:
    topics = list(TOPICS)
    topics[position] = topic
    code, _, err = run_main(capsys, "projection-status", *topics)
    assert code == 2
    assert expected in err
    assert "name the class by its module and name" in err


def test_a_worker_whose_start_loses_its_connection_starts_again(
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    made: list[Any] = []

    def flaky(*args: Any) -> Any:
        made.append(args)
        if len(made) == 1:
            raise InterfaceError("the connection was closed")
        return _construct_view(*args)

    monkeypatch.setattr("eventsourcing.projection._worker._construct_view", flaky)
    notebook = Notebook(env=env)
    view = view_of(env)
    worker = worker_of(env)
    with caplog.at_level(logging.WARNING, "eventsourcing.projection"), running(worker):
        view.wait("Notebook", notebook.write(1, 2), timeout=10)
    assert len(made) == 2
    assert view.rows() == [1, 2]
    assert (
        f"Projection worker {ME} of Seen could not start (the connection was "
        "closed); trying again in 0.1 seconds (attempt 2 of 5)"
    ) in caplog.text
