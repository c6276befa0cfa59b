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
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_on_signals(stop: Callable[[str], None]) -> Iterator[None]:
    """Within the block (entered in the main thread), SIGTERM or SIGINT calls
    ``stop`` with the signal's name, from another thread; a second signal, once
    SIGINT, raises ``KeyboardInterrupt`` at once. The previous handlers are put
    back afterwards."""
    read_end, write_end = os.pipe()
    signalled = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal signalled
        if signalled and signum == signal.SIGINT:
            raise KeyboardInterrupt
        signalled = True
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
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        os.close(write_end)  # ends the relay if no signal came
        thread.join()
        os.close(read_end)


class RunsUntilStopped:
    """What workers share: :meth:`run` runs once, in the calling thread, until
    :meth:`stop` or a stop signal; subclasses say how to start, loop and shut
    down, and how they are named in the log."""

    _logger: logging.Logger
    _signal_note: str  # what the worker does when a signal stops it
    _stopping: threading.Event
    _ran = False

    def _describe(self) -> str:
        raise NotImplementedError  # pragma: no cover (every worker names itself)

    def _start(self) -> None:
        raise NotImplementedError  # pragma: no cover (every worker starts)

    def _loop(self) -> None:
        raise NotImplementedError  # pragma: no cover (every worker loops)

    def _shutdown(self) -> None:
        raise NotImplementedError  # pragma: no cover (every worker shuts down)

    def stop(self) -> None:
        raise NotImplementedError  # pragma: no cover (every worker stops)

    def run(self, *, handle_signals: bool | None = None) -> None:
        """Runs the worker until :meth:`stop`. With ``handle_signals`` (by
        default, when called in the main thread), SIGTERM and SIGINT stop it;
        a second SIGINT interrupts it at once."""
        if self._ran:
            msg = f"{self!r} has run already: a worker runs once, make another"
            raise RuntimeError(msg)
        self._ran = True
        if handle_signals is None:
            handle_signals = threading.current_thread() is threading.main_thread()
        signals = stop_on_signals(self._on_signal) if handle_signals else nullcontext()
        with signals:
            try:
                self._start()
                try:
                    self._loop()
                except BaseException:
                    if not self._stopping.is_set():
                        self._logger.exception("%s failed", self._describe())
                    raise
            finally:
                self._shutdown()

    def _on_signal(self, name: str) -> None:
        self._logger.info(
            "%s stops (%s): %s", self._describe(), name, self._signal_note
        )
        self.stop()
