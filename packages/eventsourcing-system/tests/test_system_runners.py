"""Single-threaded and multi-threaded runners: starting, stopping, prompting,
configuration through env, loops, catching up and errors."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any, cast
from uuid import UUID, uuid4

import pytest

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent
from eventsourcing.system import (
    Follower,
    FollowerFailed,
    MultiThreadedRunner,
    MultiThreadedRunnerThread,
    ProcessApplication,
    ProcessEvent,
    Runner,
    RunnerAlreadyStarted,
    RunnerNotStarted,
    SingleThreadedRunner,
    System,
)


class Note(Aggregate):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = ""

    @classmethod
    def create(cls, text: str) -> Note:
        note: Note = cls._create(event_class=cls.Created, id=uuid4())
        note.write(text)
        return note

    class Created(AggregateCreated["Note"]):
        pass

    def write(self, text: str) -> None:
        self.trigger_event(self.Written, text=text)

    class Written(AggregateEvent["Note"]):
        text: str

        def apply(self, note: Note) -> None:
            note.text = self.text


class Notes(Application):
    def add(self, text: str) -> UUID:
        note = Note.create(text)
        self.save(note)
        return note.id


class Other(Application):
    pass


class Copier(ProcessApplication):
    """Copies each note written by an application it follows (in upper case)."""

    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        if isinstance(domain_event, Note.Written):
            text = domain_event.text
            if text == "fail":
                raise RuntimeError(f"{self.name} cannot copy {text!r}")
            if text == "block":
                BLOCKER.wait(5)
            process_event.save(Note.create(text.upper()))

    def texts(self) -> list[str]:
        texts = []
        for notification in self.log.select(1, 1000):
            event = self.mapper.to_domain_event(notification)
            if isinstance(event, Note.Written):
                texts.append(event.text)
        return texts


BLOCKER = threading.Event()


class Copier2(Copier):
    pass


class Copier3(Copier):
    pass


class Ping(ProcessApplication):
    """Replies to each note with a note whose count is one less, down to zero,
    and records how deep the call stack was each time."""

    depths: list[int] = []

    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        if isinstance(domain_event, Note.Written):
            self.depths.append(stack_depth())
            count = int(domain_event.text)
            if count > 0:
                process_event.save(Note.create(str(count - 1)))


class Pong(Ping):
    pass


def stack_depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame.f_back is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


RUNNERS = [SingleThreadedRunner, MultiThreadedRunner]


def settle(runner: Runner) -> None:
    if isinstance(runner, MultiThreadedRunner):
        runner.wait()


@pytest.fixture(params=RUNNERS, ids=["single", "multi"])
def runner_cls(request: Any) -> type[Runner]:
    return cast(type[Runner], request.param)


def sqlite_env(path: Path) -> dict[str, str]:
    return {"INFRASTRUCTURE_FACTORY": "sqlite", "SQLITE_DBNAME": str(path)}


def test_runner_processes_a_pipe(runner_cls: type[Runner]) -> None:
    runner = runner_cls(System(pipes=[[Notes, Copier, Copier2]]))
    runner.start()
    try:
        notes = runner.get(Notes)
        notes.add("a")
        notes.add("b")
        settle(runner)
        assert runner.get(Copier).texts() == ["A", "B"]
        assert runner.get(Copier2).texts() == ["A", "B"]
    finally:
        runner.stop()
    assert not runner.is_started


def test_runner_cannot_start_twice(runner_cls: type[Runner]) -> None:
    runner = runner_cls(System(pipes=[[Notes, Copier]]))
    runner.start()
    try:
        with pytest.raises(RunnerAlreadyStarted, match="already started"):
            runner.start()
    finally:
        runner.stop()


def test_runner_can_start_again_after_stopping(runner_cls: type[Runner]) -> None:
    runner = runner_cls(System(pipes=[[Notes, Copier]]))
    runner.start()
    first = runner.get(Notes)
    runner.stop()
    runner.start()
    try:
        assert runner.get(Notes) is not first
    finally:
        runner.stop()


def test_get_requires_a_started_runner_and_an_application_of_the_system(
    runner_cls: type[Runner],
) -> None:
    runner = runner_cls(System(pipes=[[Notes, Copier]]))
    with pytest.raises(RunnerNotStarted, match=r"call start\(\)"):
        runner.get(Notes)
    runner.start()
    try:
        with pytest.raises(ValueError, match="Copier2 is not an application"):
            runner.get(Copier2)
    finally:
        runner.stop()


def test_stopped_runner_is_no_longer_prompted(runner_cls: type[Runner]) -> None:
    runner = runner_cls(System(pipes=[[Notes, Copier]]))
    runner.start()
    notes = runner.get(Notes)
    runner.stop()

    notes.add("after")  # No error, and nothing to prompt.

    assert notes.followers == []  # type: ignore[attr-defined]


def test_runner_passes_env_to_each_application(
    runner_cls: type[Runner], tmp_path: Path
) -> None:
    env = {
        "INFRASTRUCTURE_FACTORY": "sqlite",
        "NOTES_SQLITE_DBNAME": str(tmp_path / "notes.db"),
        "COPIER_SQLITE_DBNAME": str(tmp_path / "copier.db"),
    }
    runner = runner_cls(System(pipes=[[Notes, Copier]]), env=env)
    runner.start()
    try:
        runner.get(Notes).add("x")
        settle(runner)
        assert runner.get(Copier).texts() == ["X"]
        assert runner.get(Notes).env["INFRASTRUCTURE_FACTORY"] == "sqlite"
    finally:
        runner.stop()
    assert (tmp_path / "notes.db").exists()
    assert (tmp_path / "copier.db").exists()


def test_started_runner_catches_up_with_notifications_recorded_earlier(
    runner_cls: type[Runner], tmp_path: Path
) -> None:
    env = sqlite_env(tmp_path / "system.db")
    notes = Notes(env=env)
    notes.add("before")
    notes.add("again")

    runner = runner_cls(System(pipes=[[Notes, Copier, Copier2]]), env=env)
    runner.start()
    try:
        settle(runner)
        assert runner.get(Copier).texts() == ["BEFORE", "AGAIN"]
        assert runner.get(Copier2).texts() == ["BEFORE", "AGAIN"]
    finally:
        runner.stop()


def test_applications_that_neither_lead_nor_follow_are_constructed(
    runner_cls: type[Runner],
) -> None:
    runner = runner_cls(System(pipes=[[Notes, Copier], [Other]]))
    runner.start()
    try:
        other = runner.get(Other)
        assert type(other) is Other
        other.save(Note.create("alone"))
        assert runner.get(Copier).texts() == []
    finally:
        runner.stop()


def test_several_pipes_share_applications(runner_cls: type[Runner]) -> None:
    system = System(pipes=[[Notes, Copier, Copier3], [Notes, Copier2, Copier3]])
    runner = runner_cls(system)
    runner.start()
    try:
        runner.get(Notes).add("a")
        settle(runner)
        assert runner.get(Copier).texts() == ["A"]
        assert runner.get(Copier2).texts() == ["A"]
        assert runner.get(Copier3).texts() == ["A", "A"]
    finally:
        runner.stop()


def test_loops_are_processed_without_growing_the_stack(
    runner_cls: type[Runner],
) -> None:
    Ping.depths = []
    runner = runner_cls(System(pipes=[[Ping, Pong, Ping]]))
    runner.start()
    try:
        ping = runner.get(Ping)
        start = ProcessEvent()
        start.save(Note.create("200"))
        ping.record(start)
        settle(runner)
        assert runner.get(Pong).recorder.max_tracking_id("Ping") == 202
        assert ping.recorder.max_tracking_id("Pong") == 200
    finally:
        runner.stop()
    assert len(Ping.depths) == 201
    assert max(Ping.depths) - min(Ping.depths) < 30


def test_single_threaded_runner_propagates_policy_errors_to_the_caller() -> None:
    runner = SingleThreadedRunner(System(pipes=[[Notes, Copier]]))
    runner.start()
    notes = runner.get(Notes)
    with pytest.raises(RuntimeError, match="cannot copy 'fail'"):
        notes.add("fail")
    runner.stop()


def test_single_threaded_runner_serves_prompts_from_other_threads() -> None:
    runner = SingleThreadedRunner(System(pipes=[[Notes, Copier]]))
    runner.start()
    notes = runner.get(Notes)
    threads = [
        threading.Thread(target=lambda i=i: [notes.add(f"{i}-{j}") for j in range(5)])
        for i in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    copier = runner.get(Copier)
    assert copier.recorder.max_tracking_id("Notes") == 40
    assert len(copier.texts()) == 20
    runner.stop()


def test_failed_start_stops_the_runner(runner_cls: type[Runner]) -> None:
    env = {"INFRASTRUCTURE_FACTORY": "no-such-backend"}
    runner = runner_cls(System(pipes=[[Notes, Copier]]), env=env)
    with pytest.raises(Exception, match="no-such-backend"):
        runner.start()
    assert not runner.is_started
    assert runner.apps == {}


def test_failed_catch_up_at_start_stops_the_runner(
    runner_cls: type[Runner], tmp_path: Path
) -> None:
    env = sqlite_env(tmp_path / "system.db")
    Notes(env=env).add("fail")
    runner = runner_cls(System(pipes=[[Notes, Copier]]), env=env)
    if runner_cls is SingleThreadedRunner:
        with pytest.raises(RuntimeError, match="cannot copy"):
            runner.start()
        assert not runner.is_started
    else:
        runner.start()
        mt = cast(MultiThreadedRunner, runner)
        with pytest.raises(FollowerFailed, match="cannot copy"):
            mt.wait()
        mt.stop()  # Already reported by wait().


# Multi-threaded runner specifics.


def test_policy_error_stops_the_follower_and_is_raised_by_get() -> None:
    runner = MultiThreadedRunner(System(pipes=[[Notes, Copier, Copier2]]))
    runner.start()
    runner.get(Notes).add("fail")
    assert runner.has_errored.wait(5)

    with pytest.raises(FollowerFailed, match="'Copier' stopped") as info:
        runner.get(Notes)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert info.value.app_name == "Copier"
    # The error is reported as the thread ends, which may take a moment more.
    runner.threads["Copier"].join(5)
    assert not runner.threads["Copier"].is_alive()
    runner.stop()  # Already reported by get().


def test_policy_error_is_raised_by_stop_when_not_yet_reported() -> None:
    runner = MultiThreadedRunner(System(pipes=[[Notes, Copier], [Notes, Copier2]]))
    runner.start()
    runner.get(Notes).add("fail")
    deadline = time.monotonic() + 5
    while not all(t.error for t in runner.threads.values()):
        assert time.monotonic() < deadline
        time.sleep(0.001)

    with pytest.raises(
        FollowerFailed, match="followers that failed: Copier, Copier2"
    ) as info:
        runner.stop()
    assert info.value.app_name == "Copier"
    assert isinstance(info.value.__cause__, RuntimeError)
    assert not runner.is_started
    runner.stop()  # Stopped, and the failures were reported.


def test_error_constructing_a_follower_is_raised_by_start() -> None:
    class Broken(Copier):
        def __init__(self, env: Any = None) -> None:
            raise OSError("cannot construct")

    runner = MultiThreadedRunner(System(pipes=[[Notes, Broken]]))
    with pytest.raises(FollowerFailed, match="cannot construct") as info:
        runner.start()
    assert isinstance(info.value.__cause__, OSError)
    assert not runner.is_started
    assert runner.threads == {}


def test_idle_runner_stops_promptly() -> None:
    runner = MultiThreadedRunner(System(pipes=[[Notes, Copier, Copier2, Copier3]]))
    runner.start()
    runner.get(Notes).add("a")
    runner.wait()
    threads = list(runner.threads.values())

    started = time.monotonic()
    runner.stop()

    assert time.monotonic() - started < 1
    assert not any(thread.is_alive() for thread in threads)


def test_wait_times_out_naming_the_lagging_followers() -> None:
    BLOCKER.clear()
    runner = MultiThreadedRunner(System(pipes=[[Notes, Copier]]))
    runner.start()
    try:
        runner.get(Notes).add("block")
        with pytest.raises(TimeoutError, match=r"Copier at [01] of Notes's 2"):
            runner.wait(timeout=0.05)
    finally:
        BLOCKER.set()
        runner.stop()


def test_wait_requires_a_started_runner() -> None:
    runner = MultiThreadedRunner(System(pipes=[[Notes, Copier]]))
    with pytest.raises(RunnerNotStarted):
        runner.wait()


class FakeFollower:
    """Stands in for a follower to drive a runner thread directly."""

    name = "Fake"
    pulled: list[str] = []
    is_stopping = threading.Event()

    def __init__(self, env: Any = None) -> None:
        self.env = env

    def pull_and_process(self, name: str) -> None:
        self.pulled.append(name)
        self.is_stopping.set()


def test_runner_thread_stops_between_prompted_names() -> None:
    FakeFollower.pulled = []
    FakeFollower.is_stopping = is_stopping = threading.Event()
    thread = MultiThreadedRunnerThread(
        cast(type[Follower], FakeFollower), is_stopping, env={"A": "1"}
    )
    thread.receive_prompt("first")
    thread.receive_prompt("second")
    thread.receive_prompt("first")

    thread.start()
    thread.join(5)

    assert not thread.is_alive()
    assert FakeFollower.pulled == ["first"]
    assert thread.error is None
    assert thread.app is not None
    assert thread.app.env == {"A": "1"}
