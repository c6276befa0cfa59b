"""A stop signal never waits for a lock that the interrupted main thread holds."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

from eventsourcing.system._signals import stop_on_signals

# As when SIGTERM comes while a worker's loop is inside Event.wait(), holding the
# event's lock that stop() must take: called from the handler, stop() would wait
# for the main thread, which waits for the handler, forever. In a process of its
# own, so that such a hang fails the test (killed at the timeout) instead of
# hanging the suite.
SCENARIO = textwrap.dedent(
    """
    import os, signal, threading, time
    from eventsourcing.system._signals import stop_on_signals

    lock = threading.Lock()
    stopped = []

    def stop(name):
        with lock:
            stopped.append(name)

    with stop_on_signals(stop):
        with lock:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler runs in here, and returns
            assert stopped == []
        deadline = time.monotonic() + 20
        while not stopped and time.monotonic() < deadline:
            time.sleep(0.01)
    print(stopped)
    """
)


def test_a_signal_while_the_main_thread_holds_the_lock_that_stopping_takes() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCENARIO],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "['SIGTERM']\n"


def test_the_previous_handlers_are_back_afterwards_and_no_signal_is_needed() -> None:
    before = signal.getsignal(signal.SIGINT)
    with stop_on_signals(lambda name: None):
        assert signal.getsignal(signal.SIGINT) is not before
    assert signal.getsignal(signal.SIGINT) is before
