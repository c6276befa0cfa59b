"""Views in memory: tables changed only inside transactions, whose changes are
undone when their block raises, and read consistently by other threads."""

from __future__ import annotations

import threading

import pytest

from eventsourcing.persistence import RecordConflictError, Tracking
from eventsourcing.popo import POPOTrackingRecorder


def test_tables_change_only_inside_a_transaction() -> None:
    view = POPOTrackingRecorder()
    table = view.table("totals")
    with pytest.raises(TypeError, match="only inside a transaction"):
        table["a"] = 1
    with view.transaction(Tracking("app", 1)) as same:
        assert same is view
        table["a"] = 1
        view.table("totals")["b"] = 2
    with pytest.raises(TypeError, match="only inside a transaction"):
        del table["a"]
    assert dict(table) == {"a": 1, "b": 2}
    assert len(table) == 2
    assert "a" in table
    assert "z" not in table
    assert table.get("z") is None
    assert repr(table) == "<table 'totals' of POPOTrackingRecorder()>"


def test_a_block_that_raises_undoes_its_changes() -> None:
    view = POPOTrackingRecorder()
    table = view.table("totals")
    with view.transaction(Tracking("app", 1)):
        table["a"] = 1
        table["b"] = 2

    def change_then_fail() -> None:
        with view.transaction(Tracking("app", 2)):
            table["a"] = 10
            del table["b"]
            table["c"] = 3
            _ = 1 / 0

    with pytest.raises(ZeroDivisionError):
        change_then_fail()
    assert dict(table) == {"a": 1, "b": 2}
    assert view.max_tracking_id("app") == 1


def test_a_nested_block_that_raises_undoes_only_its_own_changes() -> None:
    view = POPOTrackingRecorder()
    table = view.table("totals")

    def change_then_delete_what_is_missing() -> None:
        with view.transaction():
            table["a"] = 100
            del table["missing"]

    def change_inside_then_fail_outside() -> None:
        with view.transaction(Tracking("app", 2)):
            with view.transaction():
                table["a"] = 5
            _ = 1 / 0

    with view.transaction(Tracking("app", 1)):
        table["a"] = 1
        with view.transaction():
            table["b"] = 2
        with pytest.raises(KeyError):
            change_then_delete_what_is_missing()
    assert dict(table) == {"a": 1, "b": 2}
    with pytest.raises(ZeroDivisionError):
        change_inside_then_fail_outside()
    assert dict(table) == {"a": 1, "b": 2}


def test_a_conflict_undoes_the_changes_of_the_transaction() -> None:
    view = POPOTrackingRecorder()
    table = view.table("totals")
    view.insert_tracking(Tracking("app", 3))
    with (
        pytest.raises(RecordConflictError, match="Notification 2 of 'app'"),
        view.transaction(Tracking("app", 2), Tracking("app", 4)),
    ):
        table["a"] = 1
    assert dict(table) == {}
    assert view.max_tracking_id("app") == 3


def test_readers_in_other_threads_see_nothing_before_the_commit() -> None:
    view = POPOTrackingRecorder()
    table = view.table("totals")
    seen: list[dict[str, int]] = []
    reader = threading.Thread(target=lambda: seen.append(dict(table)))
    with view.transaction(Tracking("app", 1)):
        table["a"] = 1
        reader.start()
        reader.join(0.05)  # waits for the transaction
        table["b"] = 2
    reader.join()
    assert seen == [{"a": 1, "b": 2}]


def test_reset_empties_the_tables_and_forgets_the_positions() -> None:
    view = POPOTrackingRecorder()
    with view.transaction(Tracking("app", 7)):
        view.table("totals")["a"] = 1
    view.reset()
    assert dict(view.table("totals")) == {}
    assert view.max_tracking_id("app") == 0
    view.insert_tracking(Tracking("app", 1))
