"""The system's commands: ``run`` (a worker), ``status`` (of every follower's
partitions) and ``repartition``, contributed to the ``eventsourcing`` command
and run by ``python -m eventsourcing.system``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from eventsourcing.cli import Command, CommandError, Output
from eventsourcing.cli import main as cli_main
from eventsourcing.utils import resolve_topic

from ._definition import System
from ._repartition import repartition
from ._status import DEFAULT_SCAN_LIMIT, PartitionStatus, status
from ._worker import Worker

__all__ = ["RepartitionCommand", "RunCommand", "StatusCommand", "load_system", "main"]

UNHEALTHY = 3


def load_system(topic: str) -> System:
    """The system a topic names: a :class:`System`, or a callable that returns
    one (such as a ``make_system()`` function); modules are found from the
    current folder too."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    found = resolve_topic(topic)
    system = found if isinstance(found, System) else None
    if system is None and callable(found) and not isinstance(found, type):
        made = found()
        system = made if isinstance(made, System) else None
    if system is None:
        msg = (
            f"{topic!r} is {found!r:.100}, not a System: name a System object or a "
            "function that returns one, such as 'shop.system:make_system'"
        )
        raise CommandError(msg, status=2)
    return system


def _add_system_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "system",
        metavar="SYSTEM_TOPIC",
        help="the system, as a topic such as 'shop.system:system' (a System, or "
        "a function that returns one; its module is imported from the current "
        "folder too)",
    )
    parser.add_argument(
        "--env",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="a setting, as in the environment (repeatable), such as "
        "INFRASTRUCTURE_FACTORY=postgres; the environment is read as well",
    )


def _env(args: argparse.Namespace) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            msg = f"--env takes NAME=VALUE, not {item!r}"
            raise CommandError(msg, status=2)
        env[name] = value
    return env


class _ToOutput(logging.Handler):
    """Writes the library's log records through a command's :class:`Output`."""

    _FIELDS = ("lease_change", "worker", "app", "partition", "partitions")

    def __init__(self, output: Output) -> None:
        super().__init__(logging.INFO)
        self.output = output

    def emit(self, record: logging.LogRecord) -> None:
        data: dict[str, Any] = {
            "time": record.created,
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in self._FIELDS:
            if hasattr(record, field):
                data[field] = getattr(record, field)
        self.output.record(data, f"{record.levelname:<7} {data['message']}")


class RunCommand(Command):
    """``run``: a worker of one application of a system, until SIGTERM or SIGINT."""

    help = (
        "run one application of a system in this process, sharing its partitions "
        "with its other workers, until SIGTERM or SIGINT"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _add_system_arguments(parser)
        parser.add_argument(
            "--app", required=True, metavar="NAME", help="the follower to run"
        )

    def run(self, args: argparse.Namespace, output: Output) -> int:
        system = load_system(args.system)
        worker = Worker(system, args.app, _env(args))
        library = logging.getLogger("eventsourcing")
        handler = _ToOutput(output)
        level = library.level
        library.addHandler(handler)
        if level == logging.NOTSET or level > logging.INFO:
            library.setLevel(logging.INFO)
        try:
            worker.run()
        finally:
            library.removeHandler(handler)
            library.setLevel(level)
        return 0


class StatusCommand(Command):
    """``status``: each follower's partitions, who holds them, and their lag."""

    help = (
        "show each follower's partitions: the worker holding it, its position, "
        "its leader's last notification and its lag"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _add_system_arguments(parser)
        parser.add_argument(
            "--app",
            metavar="NAME",
            action="append",
            default=[],
            help="only this follower (repeatable)",
        )
        parser.add_argument(
            "--max-lag",
            metavar="N",
            type=int,
            default=None,
            help=f"exit with status {UNHEALTHY} when a partition lags by more than "
            "N notifications, is held by no worker, or a problem is found (a "
            "health check)",
        )
        parser.add_argument(
            "--scan-limit",
            metavar="N",
            type=int,
            default=DEFAULT_SCAN_LIMIT,
            help="with several partitions, read at most N notifications of a "
            f"leader's log to count their lag (default {DEFAULT_SCAN_LIMIT})",
        )

    def run(self, args: argparse.Namespace, output: Output) -> int:
        system = load_system(args.system)
        found = status(
            system, _env(args), apps=args.app or None, scan_limit=args.scan_limit
        )
        if output.json_lines:
            for p in found.partitions:
                output.record(p.to_dict(), "")
        else:
            output.table(
                "Followers",
                [
                    "follower",
                    "leader",
                    "partition",
                    "owner",
                    "position",
                    "leader's last",
                    "lag",
                ],
                [_row(p) for p in found.partitions],
            )
        for problem in found.problems:
            output.record({"problem": problem}, f"problem: {problem}")
        if args.max_lag is None:
            return 0
        reasons = found.unhealthy(args.max_lag)
        for reason in reasons:
            output.message(f"unhealthy: {reason}")
        return UNHEALTHY if reasons else 0


def _row(p: PartitionStatus) -> list[Any]:
    lag = "?" if p.lag is None else f"{'' if p.lag_exact else '>='}{p.lag}"
    return [
        p.follower,
        p.leader,
        f"{p.partition}/{p.partitions}",
        p.owner or "-",
        p.position,
        "?" if p.leader_position is None else p.leader_position,
        lag,
    ]


class RepartitionCommand(Command):
    """``repartition``: change a stopped follower's number of partitions."""

    help = (
        "change the number of partitions of a follower whose workers are all "
        "stopped (the old partitions catch up first)"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _add_system_arguments(parser)
        parser.add_argument("--app", required=True, metavar="NAME")
        parser.add_argument("--partitions", required=True, type=int, metavar="N")

    def run(self, args: argparse.Namespace, output: Output) -> int:
        system = load_system(args.system)
        started = repartition(system, args.app, args.partitions, _env(args))
        for leader, position in started.items():
            output.record(
                {"app": args.app, "leader": leader, "position": position},
                f"{args.app}: {args.partitions} partitions of {leader}'s log, "
                f"from notification {position + 1}",
            )
        if not started:
            output.message(f"{args.app} has {args.partitions} partitions already")
        return 0


COMMANDS = {
    "run": RunCommand(),
    "status": StatusCommand(),
    "repartition": RepartitionCommand(),
}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m eventsourcing.system``: the system's commands."""
    return cli_main(
        argv,
        commands=COMMANDS,
        prog="python -m eventsourcing.system",
        description=(
            "Run the applications of a system as workers on any hosts, and see "
            "how far behind they are."
        ),
    )
