"""SQLite persistence: recorders that store events in SQLite via :mod:`sqlite3`, and
the ``sqlite`` infrastructure factory that builds them from environment variables.

Exceptions raised here are those of :mod:`eventsourcing.persistence`, with the
:mod:`sqlite3` error chained as ``__cause__``::

    PersistenceError
    ├── InterfaceError             (e.g. a closed datastore)
    └── DatabaseError
        ├── DataError
        ├── OperationalError       (e.g. the write lock timed out)
        ├── IntegrityError
        │   └── RecordConflictError  (an event version or tracking record exists)
        ├── InternalError
        ├── ProgrammingError
        │   └── InvalidTableName   (also a ValueError)
        └── NotSupportedError
"""

from typing import TYPE_CHECKING

from eventsourcing.sqlite._datastore import InvalidTableName, SQLiteDatastore
from eventsourcing.sqlite._factory import Factory, Layout
from eventsourcing.sqlite._leases import FileLeases
from eventsourcing.sqlite._recorders import (
    SQLiteAggregateRecorder,
    SQLiteApplicationRecorder,
    SQLiteProcessRecorder,
)
from eventsourcing.sqlite._tracking import SQLiteTrackingRecorder
from eventsourcing.utils import publish, version_getter

__all__ = [
    "Factory",
    "FileLeases",
    "InvalidTableName",
    "Layout",
    "SQLiteAggregateRecorder",
    "SQLiteApplicationRecorder",
    "SQLiteDatastore",
    "SQLiteProcessRecorder",
    "SQLiteTrackingRecorder",
]

publish(__name__, globals())
if TYPE_CHECKING:
    __version__: str
else:
    __getattr__ = version_getter("eventsourcing-sqlite")
