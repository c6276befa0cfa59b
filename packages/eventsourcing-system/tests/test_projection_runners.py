"""Projections, their processor and runner, and projections in the system runners:
each event changes the view once, with the position, and the view can be waited
for."""

from __future__ import annotations

import threading
import time
from abc import abstractmethod
from typing import Any
from uuid import UUID

import pytest

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, DomainEvent, event
from eventsourcing.persistence import (
    ConfigurationError,
    RecordConflictError,
    Tracking,
    TrackingRecorder,
)
from eventsourcing.popo import POPOTrackingRecorder
from eventsourcing.projection import (
    Projection,
    ProjectionFailed,
    ProjectionProcessor,
    ProjectionRunner,
    construct_view,
)
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.system import (
    MultiThreadedRunner,
    ProcessApplication,
    ProcessEvent,
    SingleThreadedRunner,
    System,
)


class Counter(Aggregate):
    @event("Started")
    def __init__(self, name: str) -> None:
        self.name = name

    def count(self, by: int = 1) -> None:
        self._counted(self.name, by)

    @event("Counted")
    def _counted(self, name: str, by: int) -> None:
        pass

    @event("Renamed")
    def rename(self, name: str) -> None:
        self.name = name


Started: Any = Counter.Started  # type: ignore[attr-defined]  # made by @event
Counted: Any = Counter.Counted  # type: ignore[attr-defined]  # made by @event


class Counters(Application):
    def start(self, name: str) -> UUID:
        counter = Counter(name)
        self.save(counter)
        return counter.id

    def count(self, counter_id: UUID, by: int = 1) -> int:
        counter = self.repository.get(counter_id)
        counter.count(by)
        return self.save(counter)[-1].notification.id

    def rename(self, counter_id: UUID, name: str) -> int:
        counter = self.repository.get(counter_id)
        counter.rename(name)
        return self.save(counter)[-1].notification.id


class TotalsView(TrackingRecorder):
    """Totals by counter name."""

    fail_after: int | None = None  # the event after which the view fails
    fails_once: threading.Event | None = None  # set, it fails (if not in 5 s)

    @abstractmethod
    def add(self, name: str, by: int) -> None:
        """Adds to a total."""

    @abstractmethod
    def totals(self) -> dict[str, int]:
        """The totals."""


class InMemoryTotals(POPOTrackingRecorder, TotalsView):
    def add(self, name: str, by: int) -> None:
        with self.transaction():
            totals = self.table("totals")
            totals[name] = totals.get(name, 0) + by

    def totals(self) -> dict[str, int]:
        return dict(self.table("totals"))


class SQLiteTotals(SQLiteTrackingRecorder, TotalsView):
    def create_table_statements(self) -> list[str]:
        return [
            *super().create_table_statements(),
            (
                f"CREATE TABLE IF NOT EXISTS {self.table('totals')} "
                "(name TEXT PRIMARY KEY, total INTEGER NOT NULL)"
            ),
        ]

    def add(self, name: str, by: int) -> None:
        with self.transaction() as connection:
            connection.execute(
                f"INSERT INTO {self.table('totals')} VALUES (?, ?) ON CONFLICT (name) "
                "DO UPDATE SET total = total + excluded.total",
                (name, by),
            )

    def totals(self) -> dict[str, int]:
        rows = self.datastore.fetchall(
            f"SELECT name, total FROM {self.table('totals')}"
        )
        return dict(rows)


class Totals(Projection[TotalsView]):
    topics = (Started, Counted)

    def __init__(self, view: TotalsView) -> None:
        super().__init__(view)
        self.processed: list[int] = []

    def process_event(self, domain_event: DomainEvent[Any], tracking: Tracking) -> None:
        self.processed.append(tracking.notification_id)
        if isinstance(domain_event, Counted):
            self.view.add(domain_event.name, domain_event.by)
        elif isinstance(domain_event, Started):
            self.view.add(domain_event.name, 0)
        if tracking.notification_id == self.view.fail_after:
            if self.view.fails_once is not None:
                self.view.fails_once.wait(5)
            msg = f"failed after notification {tracking.notification_id}"
            raise RuntimeError(msg)


SQLITE = {"INFRASTRUCTURE_FACTORY": "sqlite", "SQLITE_DBNAME": ":memory:"}


@pytest.fixture(params=["popo", "sqlite"])
def env(request: pytest.FixtureRequest) -> dict[str, str]:
    return {} if request.param == "popo" else dict(SQLITE)


def test_a_projection_is_named_after_its_class_unless_it_says() -> None:
    class Named(Totals):
        name = "totals_v2"

    assert Totals.name == "Totals"
    assert Named.name == "totals_v2"
    assert Projection.name == "Projection"


def test_construct_view_finds_the_backends_implementation(env: dict[str, str]) -> None:
    view = construct_view(Totals, TotalsView, env)
    expected = SQLiteTotals if env else InMemoryTotals
    assert type(view) is expected
    assert construct_view(Totals, expected, env).max_tracking_id("Counters") == 0


def test_construct_view_refuses_what_is_not_a_projection() -> None:
    with pytest.raises(TypeError, match="not a projection class"):
        construct_view(Counters, TotalsView)  # type: ignore[arg-type]  # not a projection


def test_construct_view_refuses_a_view_the_backend_cannot_construct() -> None:
    with pytest.raises(ConfigurationError, match="No implementation of SQLiteTotals"):
        construct_view(Totals, SQLiteTotals, {})


def test_the_processor_catches_up_a_page_to_a_transaction() -> None:
    app = Counters()
    ids = [app.start(name) for name in ("a", "b")]
    for counter_id in ids:
        app.count(counter_id, 2)
    app.rename(ids[0], "not projected")
    projection = Totals(InMemoryTotals())
    processor = ProjectionProcessor(app, projection, page_size=3)
    assert processor.process_page() is False  # a full page: maybe more
    assert projection.view.max_tracking_id("Counters") == 3
    processor.catch_up()
    assert projection.view.totals() == {"a": 2, "b": 2}
    # The rename was passed over, but the position has reached it.
    assert processor.position == projection.view.max_tracking_id("Counters") == 5
    assert projection.processed == [1, 2, 3, 4]
    assert processor.process_page() is True  # nothing new: nothing written
    assert "at 5" in repr(processor)
    processor.close()


def test_two_processors_of_one_view_process_each_event_once() -> None:
    app = Counters()
    counter_id = app.start("a")
    view = InMemoryTotals()
    first = ProjectionProcessor(app, Totals(view))
    second = ProjectionProcessor(app, Totals(view))
    for _ in range(3):
        app.count(counter_id)
    first.catch_up()
    # The second read the position before the first recorded: it conflicts,
    # and goes on after the first's position.
    assert second.process_page() is False
    assert second.position == 4
    app.count(counter_id)
    second.catch_up()
    first.catch_up()
    assert view.totals() == {"a": 4}
    assert view.max_tracking_id("Counters") == 5


def test_a_conflict_of_the_views_own_rows_is_raised() -> None:
    class Clashing(InMemoryTotals):
        def add(self, name: str, by: int) -> None:
            msg = "a row of the view clashes"
            raise RecordConflictError(msg)

    app = Counters()
    app.start("a")
    processor = ProjectionProcessor(app, Totals(Clashing()))
    with pytest.raises(RecordConflictError, match="clashes"):
        processor.catch_up()


def test_a_nested_error_the_projection_catches_undoes_only_its_own_changes(
    env: dict[str, str],
) -> None:
    class Careful(Totals):
        def process_event(
            self, domain_event: DomainEvent[Any], tracking: Tracking
        ) -> None:
            super().process_event(domain_event, tracking)
            try:
                with self.view.transaction():
                    self.view.add("attempted", 1)
                    msg = "a change that fails half way"
                    raise ValueError(msg)
            except ValueError:
                pass

    app = Counters()
    app.count(app.start("a"), 2)
    view = construct_view(Careful, TotalsView, env)
    projection = Careful(view)
    ProjectionProcessor(app, projection).catch_up()
    assert view.totals() == {"a": 2}
    # The page was processed without savepoints, then again with them.
    assert projection.processed == [1, 2, 1, 2]


def test_an_error_between_the_statements_and_the_position_keeps_neither(
    env: dict[str, str],
) -> None:
    app = Counters()
    counter_id = app.start("a")
    app.count(counter_id, 5)
    app.count(counter_id, 7)
    view = construct_view(Totals, TotalsView, env)
    view.fail_after = 3  # after the view's statements, before the position
    processor = ProjectionProcessor(app, Totals(view), page_size=1)
    with pytest.raises(RuntimeError, match="after notification 3"):
        processor.catch_up()
    assert view.totals() == {"a": 5}
    assert view.max_tracking_id("Counters") == 2
    view.fail_after = None
    ProjectionProcessor(app, Totals(view)).catch_up()
    assert view.totals() == {"a": 12}
    assert view.max_tracking_id("Counters") == 3


def test_the_runner_keeps_the_view_in_step_and_waits_for_it(
    env: dict[str, str],
) -> None:
    with ProjectionRunner(Counters, Totals, TotalsView, env) as runner:
        assert runner.is_started
        app = runner.app
        counter_id = app.start("a")
        for _ in range(3):
            notification_id = app.count(counter_id)
            runner.wait(notification_id, timeout=5)
            assert runner.view.has_tracking_id("Counters", notification_id)
        assert runner.view.totals() == {"a": 3}
        # Of no interest to the projection, yet waited for.
        runner.wait(app.rename(counter_id, "b"), timeout=5)
        with pytest.raises(TimeoutError, match="notification 99 of 'Counters'"):
            runner.wait(99, timeout=0.05)
        assert "started" in repr(runner)
    assert not runner.is_started
    assert "not started" in repr(runner)


def test_the_runner_resumes_from_the_views_position(tmp_path: Any) -> None:
    env = {"INFRASTRUCTURE_FACTORY": "sqlite", "SQLITE_DBNAME": str(tmp_path / "db")}
    app = Counters(env=env)
    counter_id = app.start("a")
    runner = ProjectionRunner(app, Totals, TotalsView, env)
    runner.start()
    runner.wait(app.count(counter_id), timeout=5)
    runner.stop()
    app.count(counter_id, 10)  # while no projection runs
    runner.start()
    runner.wait(app.recorder.max_notification_id(), timeout=5)
    assert runner.view.totals() == {"a": 11}
    assert isinstance(runner.projection, Totals)
    assert runner.projection.processed == [1, 2, 3]  # not the events again
    runner.close()
    app.close()


def test_a_runner_started_twice_or_waited_for_unstarted_says_so() -> None:
    runner = ProjectionRunner(Counters, Totals, TotalsView)
    with pytest.raises(RuntimeError, match="start"):
        runner.wait(1)
    runner.stop()  # not started: nothing to do
    with runner:
        with pytest.raises(RuntimeError, match="already started"):
            runner.start()
        with runner:  # started already: entered as it is
            pass


def test_an_error_stops_the_runner_and_is_raised_by_wait_and_stop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runner = ProjectionRunner(Counters, Totals, TotalsView)
    runner.view.fail_after = 1
    # It fails once wait() waits for the view: the failure interrupts the wait.
    runner.view.fails_once = waiting = threading.Event()
    view_wait = runner.view.wait

    def wait(*args: Any, **kwargs: Any) -> None:
        waiting.set()
        view_wait(*args, **kwargs)

    monkeypatch.setattr(runner.view, "wait", wait)
    runner.start()
    runner.app.start("a")
    with pytest.raises(ProjectionFailed, match="'Totals' stopped") as raised:
        runner.wait(1, timeout=5)
    assert isinstance(raised.value.__cause__, RuntimeError)
    assert raised.value.projection_name == "Totals"
    # Failed already: raised before any wait.
    waiting.clear()
    with pytest.raises(ProjectionFailed):
        runner.wait(1, timeout=5)
    assert not waiting.is_set()
    runner.view.fails_once = None  # from now on it fails at once
    runner.stop()  # raised already: not again
    runner.start()
    with pytest.raises(ProjectionFailed):
        runner.run_forever(timeout=5)
    runner.close()


def test_stop_raises_an_error_not_raised_before() -> None:
    runner = ProjectionRunner(Counters, Totals, TotalsView)
    runner.view.fail_after = 1
    runner.start()
    runner.app.start("a")
    thread = runner._thread
    assert thread is not None
    assert thread.failed.wait(5)
    with pytest.raises(ProjectionFailed, match="failed after notification 1"):
        runner.stop()
    runner.close()


def test_run_forever_returns_after_its_timeout() -> None:
    runner = ProjectionRunner(Counters, Totals, TotalsView)
    started = time.monotonic()
    runner.run_forever(timeout=0.05)
    assert time.monotonic() - started >= 0.05
    assert runner.is_started
    runner.close()


def test_a_runner_that_cannot_construct_its_view_closes_its_application() -> None:
    closed: list[bool] = []

    class Closing(Counters):
        def close(self) -> None:
            closed.append(True)
            super().close()

    with pytest.raises(ConfigurationError):
        ProjectionRunner(Closing, Totals, SQLiteTotals)
    assert closed == [True]


def test_a_runner_does_not_close_an_application_it_was_given() -> None:
    app = Counters(env=SQLITE)
    with ProjectionRunner(app, Totals, TotalsView, SQLITE):
        pass
    app.start("still open")


def test_the_single_threaded_runner_projects_in_the_saving_thread() -> None:
    system = System(pipes=[[Counters]])
    runner = SingleThreadedRunner(system)
    runner.add_projection(Counters, Totals, TotalsView)
    runner.start()
    try:
        app = runner.get(Counters)
        app.count(app.start("a"), 4)
        assert runner.get_view(Totals).totals() == {"a": 4}
    finally:
        runner.stop()
    with pytest.raises(ValueError, match="No view of"):
        runner.get_view(Totals)


class Doubler(ProcessApplication):
    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        if isinstance(domain_event, Counted):
            counter = Counter(f"double of {domain_event.originator_id}")
            counter.count(domain_event.by * 2)
            process_event.save(counter)


class Doubles(Totals):
    pass


def test_the_system_runners_project_leaders_and_followers(tmp_path: Any) -> None:
    system = System(pipes=[[Counters, Doubler]])
    for runner_cls in (SingleThreadedRunner, MultiThreadedRunner):
        env = {
            "INFRASTRUCTURE_FACTORY": "sqlite",
            "SQLITE_DBNAME": str(tmp_path / f"{runner_cls.__name__}.db"),
        }
        runner = runner_cls(system, env=env)
        runner.add_projection(Counters, Totals, TotalsView)
        runner.add_projection(Doubler, Doubles, TotalsView)
        runner.start()
        try:
            counters = runner.get(Counters)
            counters.count(counters.start("a"), 3)
            if isinstance(runner, MultiThreadedRunner):
                runner.wait(timeout=10)
            assert runner.get_view(Totals).totals() == {"a": 3}
            assert list(runner.get_view(Doubles).totals().values()) == [6]
        finally:
            runner.stop()


def test_projections_are_added_to_a_system_runner_before_it_starts() -> None:
    runner = SingleThreadedRunner(System(pipes=[[Counters]]))
    with pytest.raises(ValueError, match="not an application of the system"):
        runner.add_projection(Application, Totals, TotalsView)
    with pytest.raises(TypeError, match="not a projection class"):
        runner.add_projection(Counters, Counters, TotalsView)  # type: ignore[arg-type]  # not a projection
    runner.add_projection(Counters, Totals, TotalsView)
    with pytest.raises(ValueError, match="named 'Totals' was added already"):
        runner.add_projection(Counters, Totals, InMemoryTotals)
    runner.start()
    try:
        with pytest.raises(RuntimeError, match="before start"):
            runner.add_projection(Counters, Doubles, TotalsView)
    finally:
        runner.stop()


def test_in_the_single_threaded_runner_an_error_is_raised_by_the_save() -> None:
    class Failing(Totals):
        def process_event(
            self, domain_event: DomainEvent[Any], tracking: Tracking
        ) -> None:
            msg = "cannot project"
            raise RuntimeError(msg)

    runner = SingleThreadedRunner(System(pipes=[[Counters]]))
    runner.add_projection(Counters, Failing, TotalsView)
    runner.start()
    try:
        with pytest.raises(RuntimeError, match="cannot project"):
            runner.get(Counters).start("a")
    finally:
        runner.stop()


def test_in_the_multi_threaded_runner_an_error_is_raised_by_wait_get_or_stop() -> None:
    class Failing(Totals):
        def process_event(
            self, domain_event: DomainEvent[Any], tracking: Tracking
        ) -> None:
            msg = "cannot project"
            raise RuntimeError(msg)

    runner = MultiThreadedRunner(System(pipes=[[Counters]]))
    runner.add_projection(Counters, Failing, TotalsView)
    runner.start()
    runner.get(Counters).start("a")
    with pytest.raises(ProjectionFailed, match="cannot project"):
        runner.wait(timeout=10)
    with pytest.raises(ProjectionFailed):
        runner.get(Counters)
    runner.stop()  # raised already

    runner.start()
    runner.get(Counters).start("b")
    # Once the projection has failed (stopping sooner could stop it first).
    (thread,) = runner.projections._threads.values()
    assert thread.failed.wait(10)
    with pytest.raises(ProjectionFailed):
        runner.stop()


def test_the_multi_threaded_runner_stops_waiting_when_a_projection_fails(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The projection fails once the runner waits for its view.
    waiting = threading.Event()

    def wait(self: SQLiteTotals, *args: Any, **kwargs: Any) -> None:
        waiting.set()
        TrackingRecorder.wait(self, *args, **kwargs)

    monkeypatch.setattr(SQLiteTotals, "wait", wait)

    class SlowlyFailing(Totals):
        def process_event(
            self, domain_event: DomainEvent[Any], tracking: Tracking
        ) -> None:
            waiting.wait(10)
            msg = "cannot project"
            raise RuntimeError(msg)

    env = {"INFRASTRUCTURE_FACTORY": "sqlite", "SQLITE_DBNAME": str(tmp_path / "db")}
    runner = MultiThreadedRunner(System(pipes=[[Counters]]), env=env)
    runner.add_projection(Counters, SlowlyFailing, TotalsView)
    runner.start()
    runner.get(Counters).start("a")
    started = time.monotonic()
    with pytest.raises(ProjectionFailed, match="cannot project"):
        runner.wait(timeout=30)
    assert waiting.is_set()
    assert time.monotonic() - started < 10
    runner.stop()


def test_the_multi_threaded_runner_times_out_waiting_for_a_projection(
    tmp_path: Any,
) -> None:
    class Slow(Totals):
        def process_event(
            self, domain_event: DomainEvent[Any], tracking: Tracking
        ) -> None:
            time.sleep(0.5)

    # The view's positions are read without waiting for its writer (SQLite WAL).
    env = {"INFRASTRUCTURE_FACTORY": "sqlite", "SQLITE_DBNAME": str(tmp_path / "db")}
    runner = MultiThreadedRunner(System(pipes=[[Counters]]), env=env)
    runner.add_projection(Counters, Slow, TotalsView)
    runner.start()
    try:
        runner.get(Counters).start("a")
        with pytest.raises(TimeoutError, match="notification 1 of 'Counters'"):
            runner.wait(timeout=0.05)
    finally:
        runner.stop()
