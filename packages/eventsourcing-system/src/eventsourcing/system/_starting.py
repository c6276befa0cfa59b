"""Starting a worker again when its database connection is lost meanwhile.

A worker's start creates tables, opens its leaders' logs, listens and records
its number of partitions: each step is safe to repeat, and each can meet a
connection that the server (or a failover) has just closed. Started by a
supervisor, a worker would otherwise exit on the first such loss and wait to be
restarted; so it tries again a few times, a little later each time. A setting
that cannot work (a wrong host or password) fails the same way on every try,
and is raised after the last one, within two seconds.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from eventsourcing.persistence import InterfaceError, OperationalError

START_ATTEMPTS = 5
FIRST_DELAY = 0.1
"""Seconds before the second attempt; each later one waits twice as long."""


class Startable(Protocol):
    """A worker that :func:`start_patiently` can start."""

    _stopping: threading.Event

    def _describe(self) -> str: ...

    def _start(self) -> None: ...

    def _close(self) -> None: ...  # undoes what a failed _start() opened


def start_patiently(worker: Startable, logger: logging.Logger) -> bool:
    """Starts ``worker``, trying again after a lost connection; says whether it
    started (not if it was stopped while waiting to try again)."""
    attempt = 1
    while True:
        try:
            worker._start()
        except (OperationalError, InterfaceError) as error:
            if attempt == START_ATTEMPTS:
                raise  # closed by the worker's shutdown, as after any error
            worker._close()
            delay = FIRST_DELAY * 2 ** (attempt - 1)
            attempt += 1
            logger.warning(
                "%s could not start (%s); trying again in %g seconds "
                "(attempt %d of %d)",
                worker._describe(),
                error,
                delay,
                attempt,
                START_ATTEMPTS,
            )
            if worker._stopping.wait(delay):
                return False
        else:
            return True
