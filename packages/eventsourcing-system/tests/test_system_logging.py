"""Failures are visible: a follower stopped by an error is logged at once."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from eventsourcing.application import Application, ProcessEvent
from eventsourcing.domain import Aggregate
from eventsourcing.system import (
    FollowerFailed,
    MultiThreadedRunner,
    ProcessApplication,
    System,
)


class Source(Application):
    pass


class Breaking(ProcessApplication):
    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        msg = "the policy broke"
        raise RuntimeError(msg)


def test_a_follower_stopped_by_an_error_is_logged_at_once_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runner = MultiThreadedRunner(System(pipes=[[Source, Breaking]]))
    runner.start()
    with caplog.at_level(logging.ERROR, logger="eventsourcing.system"):
        runner.get(Source).save(Aggregate())
        with pytest.raises(FollowerFailed):
            runner.wait(timeout=5)
    runner.stop()  # the error was raised by wait() already
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert "Follower 'Breaking' stopped because of an error" in record.message
    assert record.exc_info is not None
    assert "the policy broke" in str(record.exc_info[1])


def test_the_library_is_silent_unless_logging_is_configured() -> None:
    code = textwrap.dedent(
        """
        import logging
        from eventsourcing.persistence import InfrastructureFactory
        InfrastructureFactory.construct("App", {"INFRASTRUCTURE_FACTORIES": "x"})
        logging.getLogger("eventsourcing.system").error("an error")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stderr == ""
