"""SIGTERM and SIGINT as requests to stop, handled without taking a lock.

A Python signal handler runs in the main thread between two of its bytecodes,
possibly while that thread holds a lock: the lock of a ``threading.Event`` it is
waiting on, or of a logging handler. A handler that sets an event or logs could
then wait for itself forever (a worker once hung on SIGTERM this way). So the
handler here only writes the signal's number to a pipe, and a thread of its
own reads it and asks to stop, taking whatever locks that needs.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from types import FrameType
from typing import Any, Protocol

from ._starting import Startable, start_patiently

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Signalled:
    """Whether a stop signal came (set by the handler, which takes no lock)."""

    received = False


@contextmanager
def stop_on_signals(stop: Callable[[str], None]) -> Iterator[Signalled]:
    """Within the block (entered in the main thread), SIGTERM or SIGINT calls
    ``stop`` with the signal's name, from another thread; a second signal, once
    SIGINT, raises ``KeyboardInterrupt`` at once. The previous handlers are put
    back afterwards."""
    read_end, write_end = os.pipe()
    signalled = Signalled()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if signalled.received and signum == signal.SIGINT:
            raise KeyboardInterrupt
        signalled.received = True
        os.write(write_end, bytes([signum]))

    def relay() -> None:
        received = os.read(read_end, 1)
        if received:  # empty when the block ends without a signal
            stop(signal.Signals(received[0]).name)

    thread = threading.Thread(target=relay, name="eventsourcing-signals", daemon=True)
    thread.start()
    previous: dict[signal.Signals, Any] = {}
    try:
        for signum in STOP_SIGNALS:
            previous[signum] = signal.signal(signum, on_signal)
        yield signalled
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        os.close(write_end)  # ends the relay if no signal came
        thread.join()
        os.close(read_end)


class Stoppable(Startable, Protocol):
    """A worker that :func:`run_until_stopped` can run."""

    _ran: bool

    def _loop(self) -> None: ...

    def _shutdown(self) -> None: ...

    def stop(self) -> None: ...


def run_until_stopped(
    worker: Stoppable,
    handle_signals: bool | None,
    logger: logging.Logger,
    signal_note: str,
) -> None:
    """What the workers' ``run()`` shares: run once, in the calling thread,
    until ``stop()`` or (with ``handle_signals``, by default in the main thread)
    a stop signal, logging ``signal_note`` when a signal stops it."""
    if worker._ran:
        msg = f"{worker!r} has run already: a worker runs once, make another"
        raise RuntimeError(msg)
    worker._ran = True
    if handle_signals is None:
        handle_signals = threading.current_thread() is threading.main_thread()

    def on_signal(name: str) -> None:
        logger.info("%s stops (%s): %s", worker._describe(), name, signal_note)
        worker.stop()

    signals = stop_on_signals(on_signal) if handle_signals else nullcontext(Signalled())
    with signals as signalled:
        try:
            if not start_patiently(worker, logger):
                return
            try:
                worker._loop()
            except BaseException:
                # Stopping (the stop signal's relay may not have called stop() yet)
                # ends by an error too: a second SIGINT, say. Not a failure.
                if not (worker._stopping.is_set() or signalled.received):
                    logger.exception("%s failed", worker._describe())
                raise
        finally:
            worker._shutdown()
