"""The ``eventsourcing`` command line: ``eventsourcing log``, ``show``, ``verify``,
``upgrade``,
and the commands that other installed distributions contribute through the
entry-point group ``eventsourcing.commands`` (see :class:`Command`).

Every command prints for people by default and for programs with ``--json``.
"""

from typing import TYPE_CHECKING

from eventsourcing.cli._app import (
    add_application_arguments,
    event_fields,
    notifications,
    open_application,
)
from eventsourcing.cli._command import (
    COMMANDS_GROUP,
    Command,
    CommandError,
    Output,
    main,
)
from eventsourcing.cli._commands import LogCommand, ShowCommand, VerifyCommand
from eventsourcing.cli._upgrade import UpgradeCommand, store_summary
from eventsourcing.utils import publish, version_getter

__all__ = [
    "COMMANDS_GROUP",
    "Command",
    "CommandError",
    "LogCommand",
    "Output",
    "ShowCommand",
    "UpgradeCommand",
    "VerifyCommand",
    "add_application_arguments",
    "event_fields",
    "main",
    "notifications",
    "open_application",
    "store_summary",
]

publish(__name__, globals())
if TYPE_CHECKING:
    __version__: str
else:
    __getattr__ = version_getter("eventsourcing-application")
