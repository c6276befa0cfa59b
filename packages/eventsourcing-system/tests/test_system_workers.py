"""Workers, run in threads of the test process on SQLite: they share a follower's
partitions through leases, wake when their leaders commit, stop cleanly, survive
conflicts and lost connections, and repartition. (Workers in processes of their
own, killed at random, are tested in tests-integration/test_workers.py.)"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import pytest

from eventsourcing.application import AggregateNotFound, Application
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent
from eventsourcing.persistence import (
    ConfigurationError,
    InfrastructureFactory,
    InProcessWakeup,
    Leases,
    OperationalError,
    RecordConflictError,
    Tracking,
)
from eventsourcing.system import (
    Follower,
    PartitionsChanged,
    ProcessEvent,
    System,
    Worker,
    WorkersRunning,
    _starting,
    _worker,
    repartition,
)
from eventsourcing.system._partitions import encode_layout


class Item(Aggregate):
    @classmethod
    def create(cls) -> Item:
        item: Item = cls._create(event_class=cls.Created, id=uuid4())
        return item

    class Created(AggregateCreated["Item"]):
        pass

    def touch(self) -> None:
        self.trigger_event(self.Touched)

    class Touched(AggregateEvent["Item"]):
        pass


class Items(Application):
    def add(self, n: int, touches: int = 0) -> list[UUID]:
        ids = []
        for _ in range(n):
            item = Item.create()
            self.save(item)
            for _ in range(touches):
                item.touch()
                self.save(item)
            ids.append(item.id)
        return ids


class Tally(Aggregate):
    """One aggregate that every notification changes: partitions conflict."""

    @classmethod
    def create_id(cls) -> UUID:
        return uuid5(NAMESPACE_URL, "/tally")

    def __init__(self) -> None:
        self.count = 0

    @classmethod
    def create(cls) -> Tally:
        tally: Tally = cls._create(event_class=cls.Created, id=cls.create_id())
        return tally

    class Created(AggregateCreated["Tally"]):
        pass

    def add(self) -> None:
        self.trigger_event(self.Added)

    class Added(AggregateEvent["Tally"]):
        def apply(self, tally: Tally) -> None:
            tally.count += 1


class Copies(Follower):
    """Records each processed notification's position in its own events too,
    so that a test can count what was recorded; ``seen`` keeps (originator ID,
    version) in processing order."""

    partitions = 4

    def __init__(self, env: Any = None) -> None:
        super().__init__(env)
        self.seen: list[tuple[UUID, int]] = []
        self.before_policy: Callable[[Any], None] | None = None

    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        if self.before_policy is not None:
            self.before_policy(domain_event)
        self.seen.append((domain_event.originator_id, domain_event.originator_version))


class Tallies(Follower):
    """Counts every notification on one aggregate (partitions conflict)."""

    partitions = 2

    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        try:
            tally: Tally = self.repository.get(Tally.create_id())
        except AggregateNotFound:
            tally = Tally.create()
        time.sleep(0.002)  # while the other partition changes it too
        tally.add()
        process_event.save(tally)


def sqlite_env(path: Path, **settings: str) -> dict[str, str]:
    return {
        "INFRASTRUCTURE_FACTORY": "sqlite",
        "SQLITE_DBNAME": str(path),
        "WORKER_POLL_INTERVAL": "0.05",
        "WORKER_LEASE_INTERVAL": "0.05",
        **settings,
    }


SYSTEM = System(pipes=[[Items, Copies], [Items, Tallies]])


class Running:
    """A worker run in a thread; ``error`` is what its run() raised."""

    def __init__(self, worker: Worker) -> None:
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
        deadline = time.monotonic() + 10
        while not self.worker.ready.is_set() and self.thread.is_alive():
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self.worker.stop()
        self.thread.join(10)
        assert not self.thread.is_alive()


@contextlib.contextmanager
def running(*workers: Worker) -> Iterator[list[Running]]:
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
        time.sleep(0.01)


def processed_once(copies: list[Copies], items: Items) -> None:
    """Every notification of the leader was processed, once, in order per
    aggregate by whichever worker held its partition."""
    seen = [pair for c in copies for pair in c.seen]
    assert len(seen) == len(set(seen)) == items.recorder.max_notification_id()
    for c in copies:
        versions: dict[UUID, list[int]] = {}
        for originator_id, version in c.seen:
            versions.setdefault(originator_id, []).append(version)
        assert all(v == sorted(v) for v in versions.values())


def copies_of(r: Running) -> Copies:
    app = r.worker.app
    assert isinstance(app, Copies)
    return app


def test_a_worker_processes_its_leaders_log_and_wakes_when_it_commits(
    tmp_path: Path,
) -> None:
    env = sqlite_env(tmp_path / "db", WORKER_POLL_INTERVAL="30")
    items = Items(env=env)
    items.add(3)
    worker = Worker(SYSTEM, "Copies", env)
    assert worker.app is None
    assert repr(worker) == f"Worker('Copies', {worker.identity!r})"
    with running(worker) as (r,):
        copies = copies_of(r)
        eventually(lambda: len(copies.seen) == 3)
        assert r.worker.owned == {0, 1, 2, 3}
        started = time.monotonic()
        items.add(1)
        eventually(lambda: len(copies.seen) == 4)
        assert time.monotonic() - started < 15  # woken, not polled (30 s)
    assert worker.app is None
    assert worker.owned == set()


def test_workers_share_the_partitions_evenly_and_process_each_notification_once(
    tmp_path: Path,
) -> None:
    env = sqlite_env(tmp_path / "db")
    items = Items(env=env)
    items.add(10, touches=2)
    with running(*(Worker(SYSTEM, "Copies", env) for _ in range(2))) as runs:
        eventually(lambda: sorted(len(r.worker.owned) for r in runs) == [2, 2])
        items.add(10, touches=2)
        eventually(lambda: sum(len(copies_of(r).seen) for r in runs) == 60)
        assert runs[0].worker.owned.isdisjoint(runs[1].worker.owned)
        processed_once([copies_of(r) for r in runs], items)


def test_a_stopped_workers_partitions_are_taken_over(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path / "db")
    items = Items(env=env)
    first, second = Worker(SYSTEM, "Copies", env), Worker(SYSTEM, "Copies", env)
    with running(first) as (r1,):
        with running(second) as (r2,):
            eventually(lambda: len(second.owned) == 2)
            items.add(8)
            eventually(lambda: len(copies_of(r1).seen) + len(copies_of(r2).seen) == 8)
            seen_by_second = list(copies_of(r2).seen)
        eventually(lambda: first.owned == {0, 1, 2, 3})
        items.add(8)
        eventually(lambda: len(copies_of(r1).seen) + len(seen_by_second) == 16)
        assert len({*copies_of(r1).seen, *seen_by_second}) == 16


def test_a_long_catch_up_pauses_for_lease_rounds(tmp_path: Path) -> None:
    shared = threading.Event()

    class Slow(Copies):
        # Slower until shared, so that the first cannot finish first however
        # long the second takes to start.
        def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
            time.sleep(0.003 if shared.is_set() else 0.02)
            super().policy(domain_event, process_event)

    system = System(pipes=[[Items, Slow]])
    env = sqlite_env(tmp_path / "db")
    items = Items(env=env)
    items.add(400)
    first, second = Worker(system, "Slow", env), Worker(system, "Slow", env)
    with running(first) as (r1,):
        eventually(lambda: len(copies_of(r1).seen) > 0)
        with running(second) as (r2,):
            # Shared while the first is still catching up.
            eventually(lambda: len(second.owned) == 2)
            assert len(copies_of(r1).seen) < 400
            shared.set()
            eventually(lambda: len(copies_of(r1).seen) + len(copies_of(r2).seen) == 400)
            processed_once([copies_of(r1), copies_of(r2)], items)


def test_more_workers_than_partitions_leave_the_extra_ones_waiting(
    tmp_path: Path,
) -> None:
    env = sqlite_env(tmp_path / "db", COPIES_PARTITIONS="2")
    with running(*(Worker(SYSTEM, "Copies", env) for _ in range(3))) as runs:
        # Slots become dense as the workers settle (a worker probing for others
        # holds a free slot for a moment, which may push a newcomer higher).
        eventually(
            lambda: (
                sorted(len(r.worker.owned) for r in runs) == [0, 1, 1]
                and sorted(-1 if r.worker.slot is None else r.worker.slot for r in runs)
                == [0, 1, 2]
            )
        )


def test_stopping_records_the_notification_in_hand_and_no_more(
    tmp_path: Path,
) -> None:
    env = sqlite_env(tmp_path / "db", COPIES_PARTITIONS="1")
    items = Items(env=env)
    worker = Worker(SYSTEM, "Copies", env)
    r = Running(worker).start()
    app = copies_of(r)
    app.before_policy = lambda domain_event: worker.stop()
    items.add(5)
    r.thread.join(10)
    assert r.error is None
    assert len(app.seen) == 1
    assert Copies(env=env).recorder.max_tracking_id("Items") == 1


def test_sigterm_stops_a_worker_run_in_the_main_thread(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path / "db", COPIES_PARTITIONS="1")
    Items(env=env).add(2)
    worker = Worker(SYSTEM, "Copies", env)
    before = signal.getsignal(signal.SIGTERM)
    recorder = Copies(env=env).recorder

    def terminate_when_done() -> None:
        # Once the work is done the worker runs, so it handles the signal.
        try:
            eventually(lambda: recorder.max_tracking_id("Items") == 2, timeout=60)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    terminating = threading.Thread(target=terminate_when_done, daemon=True)
    terminating.start()
    worker.run()
    terminating.join()
    assert signal.getsignal(signal.SIGTERM) is before
    assert recorder.max_tracking_id("Items") == 2


def test_a_second_sigint_interrupts_at_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = sqlite_env(tmp_path / "db", COPIES_PARTITIONS="1")
    Items(env=env).add(2)
    worker = Worker(SYSTEM, "Copies", env)

    class Twice(Copies):
        def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
            os.kill(os.getpid(), signal.SIGINT)  # finish, please
            os.kill(os.getpid(), signal.SIGINT)  # no: now

    system = System(pipes=[[Items, Twice]])
    worker = Worker(system, "Twice", env)
    with (
        caplog.at_level(logging.INFO, "eventsourcing"),
        pytest.raises(KeyboardInterrupt),
    ):
        worker.run()
    assert Twice(env=env).recorder.max_tracking_id("Items") == 0
    # Asked to stop, then interrupted: not a failure.
    assert "failed" not in caplog.text


def test_signals_are_left_alone_when_asked(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path / "db")
    worker = Worker(SYSTEM, "Copies", env)
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


def test_conflicting_partitions_process_their_notifications_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = sqlite_env(tmp_path / "db")
    items = Items(env=env)
    with (
        caplog.at_level(logging.DEBUG, "eventsourcing.system"),
        running(*(Worker(SYSTEM, "Tallies", env) for _ in range(2))) as runs,
    ):
        eventually(lambda: all(r.worker.owned for r in runs))
        # In one commit, so that both partitions have work at the same moment.
        items.save(*(Item.create() for _ in range(30)))
        tallies = Tallies(env=env)

        def count() -> int:
            try:
                tally: Tally = tallies.repository.get(Tally.create_id())
            except AggregateNotFound:
                return 0
            return tally.count

        eventually(lambda: count() == 30)
    assert count() == 30
    assert "processes the notification again" in caplog.text


def test_a_conflict_that_never_goes_away_stops_the_worker(tmp_path: Path) -> None:
    class Stubborn(Copies):
        def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
            # The same new aggregate for every notification: always a conflict.
            process_event.save(
                Item.Created(
                    originator_id=UUID(int=1),
                    originator_version=1,
                    timestamp=Item.Created.create_timestamp(),
                    originator_topic="tests:Item",
                )
            )

    env = sqlite_env(tmp_path / "db")
    Items(env=env).add(2)
    worker = Worker(System(pipes=[[Items, Stubborn]]), "Stubborn", env)
    with pytest.raises(RecordConflictError):
        worker.run()
    assert worker.owned == set()


def test_a_database_error_is_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    failures = [OperationalError("the database went away")]

    class Flaky(Copies):
        def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
            if failures:
                raise failures.pop()
            super().policy(domain_event, process_event)

    env = sqlite_env(tmp_path / "db")
    Items(env=env).add(3)
    with (
        caplog.at_level(logging.WARNING, "eventsourcing.system"),
        running(Worker(System(pipes=[[Items, Flaky]]), "Flaky", env)) as (r,),
    ):
        eventually(lambda: len(copies_of(r).seen) == 3)
    assert "could not process Items's log (the database went away)" in caplog.text


def test_a_policy_error_stops_the_worker_and_frees_its_partitions(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(Copies):
        def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
            raise ZeroDivisionError("a bug")

    env = sqlite_env(tmp_path / "db")
    Items(env=env).add(1)
    worker = Worker(System(pipes=[[Items, Broken]]), "Broken", env)
    with (
        caplog.at_level(logging.ERROR, "eventsourcing.system"),
        pytest.raises(ZeroDivisionError),
    ):
        worker.run()
    assert f"Worker {worker.identity} of Broken failed" in caplog.text
    leases = Broken(env=env).factory.leases()
    assert leases.try_acquire("Broken/partition/0")
    leases.close()


@pytest.mark.parametrize("value", ["soon", "0", "-1", "inf"])
def test_an_interval_that_is_not_a_number_of_seconds_is_refused(
    tmp_path: Path, value: str
) -> None:
    env = sqlite_env(tmp_path / "db", COPIES_WORKER_LEASE_INTERVAL=value)
    with pytest.raises(ConfigurationError, match="WORKER_LEASE_INTERVAL") as e:
        Worker(SYSTEM, "Copies", env).run()
    assert "is not a number of seconds" in str(e.value)


def test_intervals_are_one_second_by_default(tmp_path: Path) -> None:
    env = {"INFRASTRUCTURE_FACTORY": "sqlite", "SQLITE_DBNAME": str(tmp_path / "db")}
    with running(Worker(SYSTEM, "Copies", env)) as (r,):
        assert (r.worker.poll_interval, r.worker.lease_interval) == (1.0, 1.0)


def test_a_follower_that_cannot_be_constructed_is_raised(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path / "db", COPIES_PARTITIONS="many")
    worker = Worker(SYSTEM, "Copies", env)
    with pytest.raises(ConfigurationError, match="COPIES_PARTITIONS='many'"):
        worker.run()
    assert worker.app is None


def test_a_worker_runs_once(tmp_path: Path) -> None:
    worker = Worker(SYSTEM, "Copies", sqlite_env(tmp_path / "db"))
    worker.stop()  # before it runs: it starts, and stops at once
    worker.run()
    with pytest.raises(RuntimeError, match="a worker runs once, make another"):
        worker.run()


def test_only_followers_of_the_system_can_be_run() -> None:
    with pytest.raises(ValueError, match="'Items' follows no application"):
        Worker(SYSTEM, "Items")
    with pytest.raises(ValueError, match="'Nope' is not an application of the"):
        Worker(SYSTEM, "Nope")


def test_a_worker_waits_for_the_partition_check_of_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = sqlite_env(tmp_path / "db")
    leases = Copies(env=env).factory.leases()
    assert leases.try_acquire("Copies/layout")
    monkeypatch.setattr(_worker, "_LAYOUT_TIMEOUT", 0.2)
    with pytest.raises(TimeoutError, match=r"held the lease 'Copies/layout'"):
        Worker(SYSTEM, "Copies", env).run()
    timer = threading.Timer(0.1, leases.release, ("Copies/layout",))
    timer.start()
    monkeypatch.setattr(_worker, "_LAYOUT_TIMEOUT", 10)
    with running(Worker(SYSTEM, "Copies", env)) as (r,):
        assert r.worker.ready.is_set()
    timer.join()
    leases.close()


class _Unreliable(Leases):
    """File leases that can fail, or forget, behind the worker's back."""

    def __init__(self, inner: Leases) -> None:
        self.inner = inner
        self.failures: list[Exception] = []

    def try_acquire(self, name: str) -> bool:
        return self.inner.try_acquire(name)

    def release(self, name: str) -> None:
        self.inner.release(name)

    def held(self) -> set[str]:
        if self.failures:
            raise self.failures.pop()
        return self.inner.held()

    def holder(self, name: str) -> str | None:
        return self.inner.holder(name)

    def close(self) -> None:
        self.inner.close()


def unreliable(
    monkeypatch: pytest.MonkeyPatch, cls: type[Follower] = Copies
) -> list[_Unreliable]:
    made: list[_Unreliable] = []
    leases = cls.construct_factory

    def construct_factory(self: Follower) -> Any:
        factory = leases(self)
        inner = factory.leases

        def wrapped() -> Leases:
            made.append(_Unreliable(inner()))
            return made[-1]

        factory.leases = wrapped  # type: ignore[method-assign]
        return factory

    monkeypatch.setattr(cls, "construct_factory", construct_factory)
    return made


def test_a_failing_lease_round_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    made = unreliable(monkeypatch)
    env = sqlite_env(tmp_path / "db")
    Items(env=env).add(4)
    with (
        caplog.at_level(logging.WARNING, "eventsourcing.system"),
        running(Worker(SYSTEM, "Copies", env)) as (r,),
    ):
        eventually(lambda: len(copies_of(r).seen) == 4)
        made[0].failures.append(OperationalError("the server is down"))
        eventually(lambda: "could not check its leases" in caplog.text)
        Items(env=env).add(1)
        eventually(lambda: len(copies_of(r).seen) == 5)


def test_lost_leases_are_noticed_and_taken_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    made = unreliable(monkeypatch)
    env = sqlite_env(tmp_path / "db")
    with (
        caplog.at_level(logging.INFO, "eventsourcing.system"),
        running(Worker(SYSTEM, "Copies", env)) as (r,),
    ):
        eventually(lambda: r.worker.owned == {0, 1, 2, 3})
        # As if the connection holding them had been lost.
        made[0].inner.release("Copies/partition/2")
        made[0].inner.release("Copies/worker/0")
        eventually(lambda: "lost partition 2 of 4" in caplog.text)
        eventually(lambda: r.worker.owned == {0, 1, 2, 3} and r.worker.slot == 0)
    changes = [
        getattr(record, "lease_change", None)
        for record in caplog.records
        if getattr(record, "partition", None) == 2
    ]
    assert changes == ["acquired", "lost", "acquired", "released"]


def test_a_worker_moves_to_a_lower_slot_when_one_is_free(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path / "db")
    leases = Copies(env=env).factory.leases()
    leases.try_acquire("Copies/worker/0")
    with running(Worker(SYSTEM, "Copies", env)) as (r,):
        eventually(lambda: r.worker.slot == 1 and r.worker.owned == {2, 3})
        leases.release("Copies/worker/0")
        eventually(lambda: r.worker.slot == 0 and len(r.worker.owned) == 4)
    leases.close()


def test_a_listener_that_fails_leaves_the_worker_polling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(InProcessWakeup):
        def wait(self, timeout: float) -> bool:
            raise RuntimeError("the listener broke")

    monkeypatch.setattr(
        InfrastructureFactory, "wakeup", lambda self, r: Broken(r.wakeup_key())
    )
    env = sqlite_env(tmp_path / "db", WORKER_POLL_INTERVAL="0.1")
    items = Items(env=env)
    with (
        caplog.at_level(logging.ERROR, "eventsourcing.system"),
        running(Worker(SYSTEM, "Copies", env)) as (r,),
    ):
        items.add(2)
        eventually(lambda: len(copies_of(r).seen) == 2)
    assert "Copies stopped listening to Items; it polls every 0.1 seconds" in (
        caplog.text
    )


def test_a_worker_follows_a_leader_over_http(tmp_path: Path) -> None:
    from eventsourcing.interface import (
        NotificationLogJSONService,
        make_notification_log_server,
    )

    leader_env = sqlite_env(tmp_path / "leader.db")
    items = Items(env=leader_env)
    items.add(3)
    server = make_notification_log_server(
        NotificationLogJSONService(items), token="secret"
    )
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        env = sqlite_env(
            tmp_path / "follower.db",
            ITEMS_NOTIFICATION_LOG_URL=f"http://127.0.0.1:{server.server_port}",
            ITEMS_NOTIFICATION_LOG_TOKEN="secret",
        )
        with running(Worker(SYSTEM, "Copies", env)) as (r,):
            eventually(lambda: len(copies_of(r).seen) == 3)
            items.add(2)
            eventually(lambda: len(copies_of(r).seen) == 5)
    finally:
        server.shutdown()
        server.server_close()
        serving.join()
    assert not (tmp_path / "follower.db").read_bytes().count(b"items_events")


def test_repartitioning_lets_more_workers_go_on_where_one_stopped(
    tmp_path: Path,
) -> None:
    one = sqlite_env(tmp_path / "db", COPIES_PARTITIONS="1")
    four = sqlite_env(tmp_path / "db", COPIES_PARTITIONS="4")
    items = Items(env=one)
    items.add(6, touches=1)
    with running(Worker(SYSTEM, "Copies", one)) as (r,):
        eventually(lambda: len(copies_of(r).seen) == 12)
        done = list(copies_of(r).seen)
    items.add(3)  # while no worker runs: the old partition processes them
    with pytest.raises(PartitionsChanged, match="recorded with 1"):
        Worker(SYSTEM, "Copies", four).run()
    assert repartition(SYSTEM, "Copies", 4, one) == {"Items": 15}
    assert repartition(SYSTEM, "Copies", 4, four) == {}  # done already
    items.add(4, touches=1)
    with running(*(Worker(SYSTEM, "Copies", four) for _ in range(2))) as runs:
        eventually(lambda: sum(len(copies_of(r).seen) for r in runs) == 8)
        later = [pair for r in runs for pair in copies_of(r).seen]
    assert len(set(done) | set(later)) == 12 + 8
    recorder = Copies(env=four).recorder
    assert [recorder.max_tracking_id(f"Items#{p}/4") >= 15 for p in range(4)] == [
        True
    ] * 4
    # And back to one partition.
    assert repartition(SYSTEM, "Copies", 1, four) == {"Items": 23}
    items.add(1)
    with running(Worker(SYSTEM, "Copies", one)) as (r,):
        eventually(lambda: len(copies_of(r).seen) == 1)
    assert Copies(env=one).recorded_partitions("Items") == 1


def test_repartitioning_while_a_worker_runs_is_refused(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path / "db")
    with running(Worker(SYSTEM, "Copies", env)) as (r,):
        eventually(lambda: len(r.worker.owned) == 4)
        with pytest.raises(WorkersRunning, match=r"stop every worker of Copies"):
            repartition(SYSTEM, "Copies", 2, env)
    assert repartition(SYSTEM, "Copies", 2, env) == {"Items": 0}


def test_a_worker_left_running_through_a_repartition_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = sqlite_env(tmp_path / "db")
    worker = Worker(SYSTEM, "Copies", env)
    r = Running(worker).start()
    # As if repartitioned by someone who did not see this worker.
    Copies(env=env).recorder.insert_events(
        [], tracking=Tracking("Items#partitions", encode_layout(1, 2))
    )
    r.thread.join(10)
    assert isinstance(r.error, PartitionsChanged)


def test_a_fresh_follower_can_be_given_its_partitions_before_it_starts(
    tmp_path: Path,
) -> None:
    env = sqlite_env(tmp_path / "db")
    assert repartition(SYSTEM, "Copies", 1, env) == {}
    assert repartition(SYSTEM, "Copies", 3, env) == {"Items": 0}
    assert Copies(env=env).recorded_partitions("Items") == 3


@pytest.mark.parametrize(
    ("app", "partitions", "message"),
    [
        ("Copies", 0, "0 is not a number of partitions"),
        ("Copies", True, "True is not a number of partitions"),
        ("Items", 2, "'Items' is not a follower of the system"),
    ],
)
def test_repartition_refuses_what_it_cannot_do(
    tmp_path: Path, app: str, partitions: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        repartition(SYSTEM, app, partitions, sqlite_env(tmp_path / "db"))


def listeners_alive(app_name: str) -> int:
    prefix = f"eventsourcing-{app_name}-listens-to-"
    return sum(t.name.startswith(prefix) for t in threading.enumerate())


def failing_first(
    monkeypatch: pytest.MonkeyPatch, times: int, error: Exception
) -> list[int]:
    """Makes a worker's partitions check (the last step of its start, after it
    listens) fail ``times`` times, as on a connection that the server closed."""
    calls: list[int] = []
    check = Worker._check_partitions

    def flaky(self: Worker) -> None:
        calls.append(1)
        if len(calls) <= times:
            raise error
        check(self)

    monkeypatch.setattr(Worker, "_check_partitions", flaky)
    return calls


def test_a_worker_whose_start_loses_its_connection_starts_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls = failing_first(
        monkeypatch, 2, OperationalError("server closed the connection")
    )
    env = sqlite_env(tmp_path / "db", COPIES_PARTITIONS="1")
    items = Items(env=env)
    with (
        caplog.at_level(logging.WARNING, "eventsourcing.system"),
        running(Worker(SYSTEM, "Copies", env)) as (r,),
    ):
        assert r.worker.ready.wait(10)
        # The listeners of the failed starts stopped with them.
        eventually(lambda: listeners_alive("Copies") == 1)
        items.add(2)
        eventually(lambda: len(copies_of(r).seen) == 2)
    assert len(calls) == 3
    assert (
        "Worker " + r.worker.identity + " of Copies could not start (server closed "
        "the connection); trying again in 0.1 seconds (attempt 2 of 5)"
    ) in caplog.text
    assert "trying again in 0.2 seconds (attempt 3 of 5)" in caplog.text
    assert listeners_alive("Copies") == 0


def test_a_worker_that_cannot_start_raises_the_error_of_its_last_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_starting, "FIRST_DELAY", 0.01)
    calls = failing_first(monkeypatch, 99, OperationalError("no such host"))
    worker = Worker(SYSTEM, "Copies", sqlite_env(tmp_path / "db"))
    with (
        caplog.at_level(logging.INFO, "eventsourcing.system"),
        pytest.raises(OperationalError, match="no such host"),
    ):
        worker.run(handle_signals=False)
    assert len(calls) == _starting.START_ATTEMPTS == 5
    assert caplog.text.count("could not start (no such host)") == 4
    assert "(attempt 5 of 5)" in caplog.text
    assert caplog.text.count(f"Worker {worker.identity} of Copies stopped") == 1
    assert worker.app is None
    assert listeners_alive("Copies") == 0


def test_an_error_other_than_a_lost_connection_is_raised_at_the_first_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = failing_first(monkeypatch, 99, RecordConflictError("not a connection"))
    worker = Worker(SYSTEM, "Copies", sqlite_env(tmp_path / "db"))
    with pytest.raises(RecordConflictError):
        worker.run(handle_signals=False)
    assert len(calls) == 1


def test_a_worker_stopped_while_it_waits_to_start_again_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_starting, "FIRST_DELAY", 60.0)
    failing_first(monkeypatch, 99, OperationalError("server closed the connection"))
    worker = Worker(SYSTEM, "Copies", sqlite_env(tmp_path / "db"))
    with caplog.at_level(logging.WARNING, "eventsourcing.system"):
        r = Running(worker)
        r.thread.start()
        eventually(lambda: "could not start" in caplog.text)
        started = time.monotonic()
        worker.stop()
        r.thread.join(10)
    assert not r.thread.is_alive()
    assert time.monotonic() - started < 10
    assert r.error is None
    assert not worker.ready.is_set()
