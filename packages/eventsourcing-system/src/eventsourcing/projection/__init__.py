"""Subscriptions and projections: read models kept in step with an application's
log, each change committed with the view's position, and read-your-writes.

An :class:`ApplicationSubscription` iterates over an application's domain events
as they are committed (and pushes them to other systems); a :class:`Projection`
makes a view of them, a tracking recorder of the backend with tables of its own
(:class:`~eventsourcing.sqlite.SQLiteTrackingRecorder`,
:class:`~eventsourcing.postgres.PostgresTrackingRecorder`,
:class:`~eventsourcing.popo.POPOTrackingRecorder`); a :class:`ProjectionRunner`
runs one on its own, the system runners run them with a system
(``runner.add_projection()``), and a :class:`ProjectionWorker` runs one in a
process of its own (``python -m eventsourcing.system run-projection``), the
status of which :func:`projection_status` tells.

Exceptions: :class:`ProjectionFailed` (a projection stopped because of an error,
chained); ``view.wait()`` raises :class:`TimeoutError`.
"""

from typing import TYPE_CHECKING

from eventsourcing.utils import publish, version_getter

from ._processing import ProjectionProcessor
from ._projection import Projection, construct_view
from ._runner import ProjectionFailed, ProjectionRunner
from ._status import ProjectionStatus, projection_status
from ._subscription import ApplicationSubscription
from ._worker import ProjectionWorker

__all__ = [
    "ApplicationSubscription",
    "Projection",
    "ProjectionFailed",
    "ProjectionProcessor",
    "ProjectionRunner",
    "ProjectionStatus",
    "ProjectionWorker",
    "construct_view",
    "projection_status",
]

publish(__name__, globals())
if TYPE_CHECKING:
    __version__: str
else:
    __getattr__ = version_getter("eventsourcing-system")
