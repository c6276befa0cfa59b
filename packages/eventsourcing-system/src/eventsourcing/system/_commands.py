"""The system's commands: ``run`` (a worker), ``status`` (of every follower's
partitions), ``repartition``, ``run-projection`` (a projection's worker) and
``projection-status``, contributed to the ``eventsourcing`` command
and run by ``python -m eventsourcing.system``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from eventsourcing.application import Application
from eventsourcing.cli import Command, CommandError, Output
from eventsourcing.cli import main as cli_main
from eventsourcing.projection import (
    Projection,
    ProjectionStatus,
    ProjectionWorker,
    projection_status,
)
from eventsourcing.projection._subscription import DEFAULT_PAGE_SIZE
from eventsourcing.utils import resolve_topic

from ._definition import System
from ._repartition import repartition
from ._status import DEFAULT_SCAN_LIMIT, PartitionStatus, status
from ._worker import Worker

__all__ = [
    "ProjectionStatusCommand",
    "RepartitionCommand",
    "RunCommand",
    "RunProjectionCommand",
    "StatusCommand",
    "load_class",
    "load_system",
    "main",
]

UNHEALTHY = 3


def _resolve(topic: str) -> Any:
    """What a topic names; modules are found from the current folder too."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    return resolve_topic(topic)


def load_system(topic: str) -> System:
    """The system a topic names: a :class:`System`, or a callable that returns
    one (such as a ``make_system()`` function); modules are found from the
    current folder too."""
    found = _resolve(topic)
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


def load_class(topic: str, base: type, what: str, example: str) -> Any:
    """The class a topic names, which must derive from ``base`` (or, with
    ``base`` ``object``, any class)."""
    found = _resolve(topic)
    if not (isinstance(found, type) and issubclass(found, base)):
        msg = (
            f"{topic!r} is {found!r:.100}, not {what}: name the class by its "
            f"module and name, such as {example!r}"
        )
        raise CommandError(msg, status=2)
    return found


def _add_env_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="a setting, as in the environment (repeatable), such as "
        "INFRASTRUCTURE_FACTORY=postgres; the environment is read as well",
    )


def _add_system_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "system",
        metavar="SYSTEM_TOPIC",
        help="the system, as a topic such as 'shop.system:system' (a System, or "
        "a function that returns one; its module is imported from the current "
        "folder too)",
    )
    _add_env_argument(parser)


def _add_projection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "application",
        metavar="APP_TOPIC",
        help="the application whose log is projected, as a topic such as "
        "'shop.application:Shop' (its module is imported from the current folder "
        "too)",
    )
    parser.add_argument(
        "projection",
        metavar="PROJECTION_TOPIC",
        help="the projection class, such as 'shop.projection:OpenOrders'",
    )
    parser.add_argument(
        "view",
        metavar="VIEW_TOPIC",
        help="the view class (or the interface a backend implements), such as "
        "'shop.views:OpenOrdersView'",
    )
    _add_env_argument(parser)


def _load_projection(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    return (
        load_class(
            args.application,
            Application,
            "an application class",
            "shop.application:Shop",
        ),
        load_class(
            args.projection,
            Projection,
            "a projection class",
            "shop.projection:OpenOrders",
        ),
        load_class(args.view, object, "a view class", "shop.views:OpenOrdersView"),
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

    _FIELDS = (
        "lease_change",
        "worker",
        "app",
        "projection",
        "partition",
        "partitions",
    )

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
        _run_logged(worker, output)
        return 0


def _run_logged(worker: Worker | ProjectionWorker[Any, Any], output: Output) -> None:
    """Runs a worker, writing the library's log records to the output."""
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


class RunProjectionCommand(Command):
    """``run-projection``: a worker of one projection, until SIGTERM or SIGINT."""

    help = (
        "run a projection of an application's log into its view in this process, "
        "one worker at a time (the others wait to take over), until SIGTERM or "
        "SIGINT"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _add_projection_arguments(parser)
        parser.add_argument(
            "--page-size",
            metavar="N",
            type=int,
            default=DEFAULT_PAGE_SIZE,
            help="notifications processed in one transaction of the view "
            f"(default {DEFAULT_PAGE_SIZE})",
        )

    def run(self, args: argparse.Namespace, output: Output) -> int:
        app_class, projection_class, view_class = _load_projection(args)
        worker: ProjectionWorker[Any, Any] = ProjectionWorker(
            app_class,
            projection_class,
            view_class,
            _env(args),
            page_size=args.page_size,
        )
        _run_logged(worker, output)
        return 0


class ProjectionStatusCommand(Command):
    """``projection-status``: who runs a projection, its position and its lag."""

    help = (
        "show a projection's worker, its view's position, its application's last "
        "notification and its lag"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _add_projection_arguments(parser)
        parser.add_argument(
            "--max-lag",
            metavar="N",
            type=int,
            default=None,
            help=f"exit with status {UNHEALTHY} when the projection lags by more "
            "than N notifications or is run by no worker (a health check)",
        )

    def run(self, args: argparse.Namespace, output: Output) -> int:
        app_class, projection_class, view_class = _load_projection(args)
        found = projection_status(app_class, projection_class, view_class, _env(args))
        if output.json_lines:
            output.record(found.to_dict(), "")
        else:
            output.table(
                "Projections",
                ["projection", "application", "owner", "position", "last", "lag"],
                [_projection_row(found)],
            )
        if args.max_lag is None:
            return 0
        reasons = found.unhealthy(args.max_lag)
        for reason in reasons:
            output.message(f"unhealthy: {reason}")
        return UNHEALTHY if reasons else 0


def _projection_row(p: ProjectionStatus) -> list[Any]:
    return [p.projection, p.application, p.owner or "-", p.position, p.last, p.lag]


COMMANDS = {
    "run": RunCommand(),
    "status": StatusCommand(),
    "repartition": RepartitionCommand(),
    "run-projection": RunProjectionCommand(),
    "projection-status": ProjectionStatusCommand(),
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
