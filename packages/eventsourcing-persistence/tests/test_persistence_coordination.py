"""Wake-ups and leases: the defaults that work within one process."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Sequence
from uuid import UUID, uuid4

from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    InProcessLeases,
    InProcessWakeup,
    Leases,
    Notification,
    StoredEvent,
    Tracking,
    holder_identity,
)
from eventsourcing.persistence._coordination import signal_commit


class Log(ApplicationRecorder):
    def __init__(self) -> None:
        self.rows: list[StoredEvent] = []

    def _insert_events(
        self, stored_events: list[StoredEvent], tracking: Tracking | None
    ) -> Sequence[int] | None:
        self.rows.extend(stored_events)
        return range(len(self.rows) - len(stored_events) + 1, len(self.rows) + 1)

    def select_events(self, originator_id: UUID, *args: object) -> list[StoredEvent]:
        return []

    def select_notifications(
        self, start: int, limit: int, *, topics: Sequence[str] = ()
    ) -> list[Notification]:
        return []

    def max_notification_id(self) -> int:
        return len(self.rows)


class Shared(Log):
    def wakeup_key(self) -> str:
        return "one shared log"


def stored() -> StoredEvent:
    return StoredEvent(uuid4(), 1, "t", b"{}")


def test_a_commit_wakes_a_waiting_reader_at_once() -> None:
    log = Log()
    wakeup = InProcessWakeup(log.wakeup_key())
    timer = threading.Timer(0.05, lambda: log.insert_events([stored()]))
    started = time.monotonic()
    timer.start()
    assert wakeup.wait(5.0) is True
    assert time.monotonic() - started < 2.0
    assert wakeup.wait(0.01) is False  # nothing new since
    wakeup.close()


def test_a_commit_before_the_wait_is_not_missed() -> None:
    log = Log()
    wakeup = InProcessWakeup(log.wakeup_key())
    log.insert_events([stored()])
    assert wakeup.wait(0.0) is True


def test_commits_to_another_log_or_without_events_do_not_wake() -> None:
    wakeup = InProcessWakeup(Log().wakeup_key())
    other = Log()
    other.insert_events([stored()])
    other.insert_events([])
    signal_commit("a log no one reads")
    assert wakeup.wait(0.01) is False


def test_recorders_of_one_log_wake_each_others_readers() -> None:
    factory = InfrastructureFactory.construct("App", {})
    reader = factory.wakeup(Shared())
    Shared().insert_events([stored()])
    assert reader.wait(0.0) is True


def test_in_process_leases_are_exclusive_until_released() -> None:
    first, second = InProcessLeases("scope"), InProcessLeases("scope")
    other_scope = InProcessLeases("elsewhere")
    assert first.try_acquire("p0")
    assert first.try_acquire("p0")  # held already: still a success
    assert not second.try_acquire("p0")
    assert other_scope.try_acquire("p0")
    assert first.held() == {"p0"}
    second.release("p0")  # not its own: nothing happens
    assert first.held() == {"p0"}
    first.close()
    assert first.held() == set()
    assert second.try_acquire("p0")
    other_scope.close()
    second.close()


def test_the_factory_gives_in_process_leases_per_application() -> None:
    bank = InfrastructureFactory.construct("Bank", {}).leases()
    bank_again = InfrastructureFactory.construct("Bank", {}).leases()
    ledger = InfrastructureFactory.construct("Ledger", {}).leases()
    assert bank.try_acquire("partition-0")
    assert not bank_again.try_acquire("partition-0")
    assert ledger.try_acquire("partition-0")
    bank.close()
    ledger.close()


def test_in_process_leases_tell_who_holds_a_lease() -> None:
    first, second = InProcessLeases("scope"), InProcessLeases("scope")
    assert second.holder("p0") is None
    first.try_acquire("p0")
    host, _, pid = (second.holder("p0") or "").rpartition(":")
    assert (host, int(pid)) == (socket.gethostname(), os.getpid())
    assert holder_identity() == f"{host}:{pid}"
    first.close()
    assert second.holder("p0") is None


def test_leases_of_a_backend_that_cannot_tell_the_holder_say_none() -> None:
    class Minimal(Leases):
        def try_acquire(self, name: str) -> bool:
            return True

        def release(self, name: str) -> None:
            pass

        def held(self) -> set[str]:
            return set()

    assert Minimal().holder("anything") is None
