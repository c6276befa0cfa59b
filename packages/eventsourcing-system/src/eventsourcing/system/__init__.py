"""Event-driven systems: applications that follow each other's notification logs
and process each notification exactly once, run in one thread or many, or by
workers in any processes on any hosts (:class:`Worker`, :func:`status`).

Exceptions: :class:`RunnerAlreadyStarted`, :class:`RunnerNotStarted` and
:class:`FollowerFailed` (which chains the follower's original error);
:class:`NotificationLogError` (a :class:`ValueError`: a log returned notification
IDs out of order, so its section was refused before any of it was processed);
:class:`PartitionsChanged` (a :class:`ValueError`: a follower configured with a
number of partitions other than the one its positions were recorded with);
:class:`WorkersRunning` (:func:`repartition` while workers run).
"""

from typing import TYPE_CHECKING

from eventsourcing.application import ProcessEvent
from eventsourcing.utils import publish, version_getter

from ._application import (
    Follower,
    Leader,
    ProcessApplication,
    Promptable,
    StopSignal,
)
from ._definition import System
from ._partitions import PartitionsChanged
from ._reader import NotificationLogError, NotificationLogReader
from ._repartition import WorkersRunning, repartition
from ._runners import (
    FollowerFailed,
    MultiThreadedRunner,
    MultiThreadedRunnerThread,
    Runner,
    RunnerAlreadyStarted,
    RunnerNotStarted,
    SingleThreadedRunner,
)
from ._status import PartitionStatus, SystemStatus, status
from ._worker import Worker

__all__ = [
    "Follower",
    "FollowerFailed",
    "Leader",
    "MultiThreadedRunner",
    "MultiThreadedRunnerThread",
    "NotificationLogError",
    "NotificationLogReader",
    "PartitionStatus",
    "PartitionsChanged",
    "ProcessApplication",
    "ProcessEvent",
    "Promptable",
    "Runner",
    "RunnerAlreadyStarted",
    "RunnerNotStarted",
    "SingleThreadedRunner",
    "StopSignal",
    "System",
    "SystemStatus",
    "Worker",
    "WorkersRunning",
    "repartition",
    "status",
]

publish(__name__, globals())
if TYPE_CHECKING:
    __version__: str
else:
    __getattr__ = version_getter("eventsourcing-system")
