"""Tracking recorders in the core: transactions that nest, interrupted waits, and
how a factory finds the view class for its backend."""

from __future__ import annotations

import threading
import time
from abc import abstractmethod
from typing import Any

import pytest

from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    ConfigurationError,
    InfrastructureFactory,
    InProcessWakeup,
    NestedTransactionError,
    ProcessRecorder,
    RecordConflictError,
    Tracking,
    TrackingRecorder,
)


class Positions(TrackingRecorder):
    """Positions in a dict, committed at the end of each transaction; nothing to
    undo in nested blocks (the defaults of the savepoint hooks)."""

    def __init__(self) -> None:
        self.positions: dict[str, int] = {}
        self.log: list[str] = []

    def max_tracking_id(self, application_name: str) -> int:
        return self.positions.get(application_name, 0)

    def _begin(self) -> tuple[Any, Any]:
        self.log.append("begin")
        return "state", "cursor"

    def _commit(self, state: Any, positions: dict[str, tuple[int, int]]) -> None:
        for name, (first, _) in positions.items():
            if self.positions.get(name, 0) >= first:
                msg = f"{name} {first}"
                raise RecordConflictError(msg)
        for name, (_, last) in positions.items():
            self.positions[name] = last
        self.log.append("commit")

    def _rollback(self, state: Any, error: BaseException) -> None:
        self.log.append(f"rollback {type(error).__name__}")


def test_a_nested_transaction_joins_the_outer_one() -> None:
    recorder = Positions()
    with recorder.transaction(Tracking("a", 1)) as cursor:
        assert cursor == "cursor"
        with recorder.transaction(Tracking("a", 3), Tracking("b", 2)) as inner:
            assert inner == "cursor"
        with pytest.raises(KeyError), recorder.transaction(Tracking("c", 9)):
            raise KeyError
        assert recorder.positions == {}
    assert recorder.positions == {"a": 3, "b": 2}
    assert recorder.log == ["begin", "commit"]
    with pytest.raises(KeyError), recorder.transaction(Tracking("a", 4)):
        raise KeyError
    assert recorder.log[-1] == "rollback KeyError"
    with recorder.transaction():
        pass  # no positions: nothing to wake waiters for
    assert recorder.positions == {"a": 3, "b": 2}


class Savepoints(Positions):
    def _savepoint(self, state: Any, depth: int) -> None:
        self.log.append(f"savepoint {depth}")

    def _release(self, state: Any, depth: int) -> None:
        self.log.append(f"release {depth}")

    def _rollback_to(self, state: Any, depth: int, error: BaseException) -> None:
        self.log.append(f"rollback to {depth}")


def test_nested_transactions_make_savepoints_unless_told_not_to() -> None:
    recorder = Savepoints()
    with recorder.transaction(Tracking("a", 1)):
        with recorder.transaction():
            pass
        with pytest.raises(KeyError), recorder.transaction():
            raise KeyError
    assert recorder.log == [
        "begin",
        "savepoint 1",
        "release 1",
        "savepoint 1",
        "rollback to 1",
        "commit",
    ]
    recorder.log.clear()
    with (
        recorder.transaction(Tracking("a", 2), savepoints=False),
        recorder.transaction(Tracking("a", 3)),
        recorder.transaction(),
    ):
        pass
    assert recorder.log == ["begin", "commit"]
    assert recorder.positions == {"a": 3}

    def fail_inside() -> None:
        with (
            recorder.transaction(Tracking("a", 4), savepoints=False),
            recorder.transaction(Tracking("a", 5)),
        ):
            raise KeyError

    with pytest.raises(KeyError):
        fail_inside()
    assert recorder.log[-1] == "rollback KeyError"
    assert recorder.positions == {"a": 3}


def test_without_savepoints_the_first_caught_nested_error_is_reported() -> None:
    recorder = Positions()

    def catch_two_errors() -> None:
        with recorder.transaction(Tracking("a", 1), savepoints=False):
            for error in (KeyError, ValueError):
                try:
                    with recorder.transaction():
                        raise error
                except (KeyError, ValueError):
                    pass

    with pytest.raises(NestedTransactionError, match="KeyError") as raised:
        catch_two_errors()
    assert isinstance(raised.value.__cause__, KeyError)
    assert recorder.positions == {}


def test_transactions_of_other_threads_are_apart() -> None:
    recorder = Positions()
    with recorder.transaction(Tracking("a", 1)):
        other = threading.Thread(
            target=lambda: recorder.insert_tracking(Tracking("b", 1))
        )
        other.start()
        other.join()
        assert recorder.positions == {"b": 1}
    assert recorder.positions == {"a": 1, "b": 1}


def test_an_interrupted_wakeup_returns_at_once() -> None:
    wakeup = InProcessWakeup(("a log", "nobody writes"))
    threading.Timer(0.02, wakeup.interrupt).start()
    started = time.monotonic()
    assert wakeup.wait(30) is True
    assert time.monotonic() - started < 10
    assert wakeup.wait(0.01) is False  # an interrupt is used once
    wakeup.interrupt()  # before the wait: not missed
    assert wakeup.wait(30) is True


class View(TrackingRecorder):
    """An interface of views."""

    @abstractmethod
    def query(self) -> str:
        """Some query."""


class ThisBackendsView(Positions, View):
    def query(self) -> str:
        return "here"


class AVariant(ThisBackendsView):
    """A subclass of the implementation (a test's, say): not another one."""


class Unimplemented(TrackingRecorder):
    @abstractmethod
    def query(self) -> str:
        """Some query, of no backend yet."""


class Ambiguous(TrackingRecorder):
    @abstractmethod
    def query(self) -> str:
        """Some query, implemented twice."""


class One(Positions, Ambiguous):
    def query(self) -> str:
        return "one"


class Two(Positions, Ambiguous):
    def query(self) -> str:
        return "two"


class AbstractOfTheBackend(Positions):
    @abstractmethod
    def query(self) -> str:
        """Derived from the backend's tracking recorder, and abstract."""


class Diamond(TrackingRecorder):
    @abstractmethod
    def query(self) -> str:
        """Implemented once, and reached along two paths."""


class Left(Diamond):
    pass


class Right(Diamond):
    pass


class Both(Positions, Left, Right):
    def query(self) -> str:
        return "both"


class Backend(InfrastructureFactory):
    tracking_recorder_base = Positions

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        raise NotImplementedError

    def application_recorder(self) -> ApplicationRecorder:
        raise NotImplementedError

    def process_recorder(self) -> ProcessRecorder:
        raise NotImplementedError


def test_the_factory_constructs_the_view_class_of_its_backend() -> None:
    factory = Backend("Views", {})
    assert type(factory.tracking_recorder()) is Positions
    assert type(factory.tracking_recorder(AVariant)) is AVariant
    view = factory.tracking_recorder(View)
    assert type(view) is ThisBackendsView
    assert view.query() == "here"
    assert type(factory.tracking_recorder(Diamond)) is Both


def test_the_factory_says_which_view_class_it_cannot_find() -> None:
    factory = Backend("Views", {})
    with pytest.raises(ConfigurationError, match="No implementation of Unimplemented"):
        factory.tracking_recorder(Unimplemented)
    with pytest.raises(ConfigurationError, match="No implementation of AbstractOf"):
        factory.tracking_recorder(AbstractOfTheBackend)
    with pytest.raises(ConfigurationError, match=r"Several implementations.*One, Two"):
        factory.tracking_recorder(Ambiguous)
    with pytest.raises(TypeError, match="not a tracking recorder class"):
        factory.tracking_recorder(dict)  # type: ignore[type-var]  # not a recorder
