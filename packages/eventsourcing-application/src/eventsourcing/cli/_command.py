"""The ``eventsourcing`` command: subcommands found through the entry-point group
``eventsourcing.commands``, as persistence backends are found through theirs."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, ClassVar

from rich.console import Console
from rich.table import Table

from eventsourcing.persistence import PersistenceError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = ["COMMANDS_GROUP", "Command", "CommandError", "Output", "main"]

COMMANDS_GROUP = "eventsourcing.commands"


class CommandError(Exception):
    """Raised by a command for a failure to report in one line (exit status 1,
    or ``status``), without a traceback."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


class Output:
    """Where a command writes: for people by default (text and tables), for
    programs with ``--json`` (one JSON document per line)."""

    def __init__(self, *, json_lines: bool, file: IO[str] | None = None) -> None:
        self.json_lines = json_lines
        self.file = file or sys.stdout
        self.console = Console(file=self.file, highlight=False, soft_wrap=True)

    def record(self, data: dict[str, Any], text: str) -> None:
        """Write one record: ``data`` as a JSON line, or ``text`` for people."""
        if self.json_lines:
            self.file.write(json.dumps(data, default=str, ensure_ascii=False) + "\n")
            self.file.flush()
        else:
            self.console.print(text, markup=False)

    def table(
        self, title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        """Write rows: as a table for people, as one JSON object a row."""
        if self.json_lines:
            for row in rows:
                self.record(dict(zip(columns, row, strict=True)), "")
            return
        table = Table(title=title, title_justify="left")
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*(str(value) for value in row))
        self.console.print(table)

    def message(self, text: str) -> None:
        """Write a remark for people (nothing with ``--json``)."""
        if not self.json_lines:
            self.console.print(text, markup=False)


class Command(ABC):
    """A subcommand of ``eventsourcing``.

    A distribution contributes one by registering an instance's class (or a
    factory of instances) under a name in the entry-point group
    ``eventsourcing.commands``; installing it is all it takes.
    """

    help: ClassVar[str] = ""
    """One line for ``eventsourcing --help``."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:  # noqa: B027 (optional: a command may take no arguments)
        """Add the command's options and arguments to its parser."""

    @abstractmethod
    def run(self, args: argparse.Namespace, output: Output) -> int:
        """Run the command; returns the exit status."""


def _entry_points() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for entry_point in importlib.metadata.entry_points(group=COMMANDS_GROUP):
        found.setdefault(entry_point.name, entry_point)
    return found


def build_parser(
    commands: Mapping[str, Command] | None = None,
    *,
    prog: str = "eventsourcing",
    description: str | None = None,
) -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    """The parser of ``eventsourcing``, with a subparser for each installed
    command (or for each of ``commands``, for a distribution's own
    ``python -m`` entry)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description
        or (
            "Look into and look after event-sourced applications: their logs, "
            "aggregates and stores. Commands come from the installed eventsourcing "
            "distributions."
        ),
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    loaded: dict[str, Command] = {}
    if commands is None:
        for name, entry_point in sorted(_entry_points().items()):
            try:
                command = entry_point.load()()
                if not isinstance(command, Command):
                    msg = f"{entry_point.value} is not an eventsourcing.cli.Command"
                    raise TypeError(msg)
            except Exception as error:
                # A broken plug-in must not take the other commands down.
                subparsers.add_parser(name, help=f"(unavailable: {error})")
                continue
            loaded[name] = command
    else:
        loaded = dict(commands)
    for name, command in loaded.items():
        subparser = subparsers.add_parser(
            name, help=command.help, description=command.help
        )
        subparser.add_argument(
            "--json",
            action="store_true",
            help="write JSON lines for programs instead of text for people",
        )
        command.add_arguments(subparser)
    return parser, loaded


def main(
    argv: Sequence[str] | None = None,
    *,
    commands: Mapping[str, Command] | None = None,
    prog: str = "eventsourcing",
    description: str | None = None,
) -> int:
    """Run ``eventsourcing`` with ``argv`` (default: the command line), or, given
    ``commands``, a command line of just those (``python -m
    eventsourcing.system`` is ``main(commands=..., prog=...)``)."""
    parser, commands = build_parser(commands, prog=prog, description=description)
    args = parser.parse_args(argv)
    command = commands.get(args.command or "")
    if command is None:
        if args.command:
            parser.error(f"the command {args.command!r} could not be loaded")
        parser.print_help()
        return 2
    output = Output(json_lines=args.json)
    try:
        return command.run(args, output)
    except CommandError as error:
        print(f"{prog} {args.command}: {error}", file=sys.stderr)
        return error.status
    except (ValueError, OSError, LookupError, PersistenceError) as error:
        # Configuration and data errors: the message says what is wrong and what
        # to do, so no traceback.
        print(
            f"{prog} {args.command}: {type(error).__name__}: {error}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130
