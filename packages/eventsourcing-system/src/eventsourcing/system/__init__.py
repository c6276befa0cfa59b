"""Event-driven systems: applications that follow each other's notification logs
and process each notification exactly once, run in one thread or many.

Exceptions: :class:`RunnerAlreadyStarted`, :class:`RunnerNotStarted` and
:class:`FollowerFailed` (which chains the follower's original error);
:class:`NotificationLogError` (a :class:`ValueError`: a log returned notification
IDs out of order, so its section was refused before any of it was processed).
"""

from typing import TYPE_CHECKING

from eventsourcing.application import ProcessEvent
from eventsourcing.utils import publish, version_getter

from ._application import (
    Follower,
    Leader,
    ProcessApplication,
    Promptable,
)
from ._definition import System
from ._partitions import PartitionsChanged
from ._reader import NotificationLogError, NotificationLogReader
from ._runners import (
    FollowerFailed,
    MultiThreadedRunner,
    MultiThreadedRunnerThread,
    Runner,
    RunnerAlreadyStarted,
    RunnerNotStarted,
    SingleThreadedRunner,
)

__all__ = [
    "Follower",
    "FollowerFailed",
    "Leader",
    "MultiThreadedRunner",
    "MultiThreadedRunnerThread",
    "NotificationLogError",
    "NotificationLogReader",
    "PartitionsChanged",
    "ProcessApplication",
    "ProcessEvent",
    "Promptable",
    "Runner",
    "RunnerAlreadyStarted",
    "RunnerNotStarted",
    "SingleThreadedRunner",
    "System",
]

publish(__name__, globals())
if TYPE_CHECKING:
    __version__: str
else:
    __getattr__ = version_getter("eventsourcing-system")
