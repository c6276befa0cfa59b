"""PostgreSQL persistence: recorders that store events in PostgreSQL via psycopg2,
and the ``postgres`` infrastructure factory that builds them from environment
variables.

Exceptions raised here are those of :mod:`eventsourcing.persistence`, with the
psycopg2 error chained as ``__cause__``::

    PersistenceError
    ├── InterfaceError
    └── DatabaseError
        ├── DataError
        ├── OperationalError       (e.g. connection lost, lock timeout)
        ├── IntegrityError
        │   └── RecordConflictError  (an event version or tracking record exists)
        ├── InternalError
        ├── ProgrammingError
        │   └── InvalidIdentifier  (also a ValueError: a refused table/schema name)
        └── NotSupportedError

Wrong environment variables raise
:class:`~eventsourcing.persistence.ConfigurationError`.
"""

from typing import TYPE_CHECKING

# First, so that a missing driver is reported with the way to install it.
import eventsourcing.postgres._driver  # noqa: F401
from eventsourcing.postgres._coordination import PostgresLeases, PostgresWakeup
from eventsourcing.postgres._datastore import InvalidIdentifier, PostgresDatastore
from eventsourcing.postgres._factory import Factory
from eventsourcing.postgres._recorders import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresProcessRecorder,
)
from eventsourcing.postgres._tracking import PostgresTrackingRecorder
from eventsourcing.utils import publish, version_getter

__all__ = [
    "Factory",
    "InvalidIdentifier",
    "PostgresAggregateRecorder",
    "PostgresApplicationRecorder",
    "PostgresDatastore",
    "PostgresLeases",
    "PostgresProcessRecorder",
    "PostgresTrackingRecorder",
    "PostgresWakeup",
]

publish(__name__, globals())
if TYPE_CHECKING:
    __version__: str
else:
    __getattr__ = version_getter("eventsourcing-postgres")
