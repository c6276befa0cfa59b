"""Persistence: transcoders, the mapper, recorders, the event store and the
infrastructure factory that picks a backend by entry point.

Exceptions (PEP 249 shaped, so any backend's driver errors look alike)::

    Exception
     +-- PersistenceError
     |    +-- InterfaceError
     |    +-- DatabaseError
     |         +-- DataError
     |         |    +-- UnreadableRecordError  (also a ValueError: a stored event
     |         |         |                      that cannot be read back)
     |         |         +-- ChecksumError      (state changed after writing)
     |         |         +-- DecryptionError    (wrong key, tampered or moved)
     |         +-- OperationalError
     |         +-- IntegrityError
     |         |    +-- RecordConflictError
     |         +-- InternalError
     |         |    +-- NestedTransactionError  (a caught error of a nested
     |         |                                 transaction, without savepoints)
     |         +-- ProgrammingError
     |         +-- NotSupportedError
     +-- ValueError, OSError
          +-- ConfigurationError   (wrong persistence environment variables)
          +-- TranscodingError     (state that cannot be encoded or decoded)
               +-- UnsupportedTypeError   (also a TypeError: no such transcoding)
     +-- WaitInterruptedError   (TrackingRecorder.wait() was interrupted; when it
                                 times out, it raises TimeoutError)
"""

from typing import TYPE_CHECKING

from eventsourcing.persistence._coordination import (
    InProcessLeases,
    InProcessWakeup,
    Leases,
    Wakeup,
    holder_identity,
)
from eventsourcing.persistence._environment import Environment
from eventsourcing.persistence._errors import (
    ChecksumError,
    ConfigurationError,
    DatabaseError,
    DataError,
    DecryptionError,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
    RecordConflictError,
    UnreadableRecordError,
)
from eventsourcing.persistence._eventstore import EventStore
from eventsourcing.persistence._factory import InfrastructureFactory, StoreUpgrade
from eventsourcing.persistence._mapper import Cipher, Compressor, Mapper
from eventsourcing.persistence._recorders import (
    AggregateRecorder,
    ApplicationRecorder,
    ProcessRecorder,
    Recorder,
)
from eventsourcing.persistence._records import (
    Notification,
    Recording,
    StoredEvent,
    Tracking,
)
from eventsourcing.persistence._tracking import (
    NestedTransactionError,
    TrackingRecorder,
    WaitInterruptedError,
)
from eventsourcing.persistence._transcoding import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoder,
    Transcoding,
    TranscodingError,
    UnsupportedTypeError,
    UUIDAsHex,
)
from eventsourcing.utils import publish, version_getter

__all__ = [
    "AggregateRecorder",
    "ApplicationRecorder",
    "ChecksumError",
    "Cipher",
    "Compressor",
    "ConfigurationError",
    "DataError",
    "DatabaseError",
    "DatetimeAsISO",
    "DecimalAsStr",
    "DecryptionError",
    "Environment",
    "EventStore",
    "InProcessLeases",
    "InProcessWakeup",
    "InfrastructureFactory",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "JSONTranscoder",
    "Leases",
    "Mapper",
    "NestedTransactionError",
    "NotSupportedError",
    "Notification",
    "OperationalError",
    "PersistenceError",
    "ProcessRecorder",
    "ProgrammingError",
    "RecordConflictError",
    "Recorder",
    "Recording",
    "StoreUpgrade",
    "StoredEvent",
    "Tracking",
    "TrackingRecorder",
    "Transcoder",
    "Transcoding",
    "TranscodingError",
    "UUIDAsHex",
    "UnreadableRecordError",
    "UnsupportedTypeError",
    "WaitInterruptedError",
    "Wakeup",
    "holder_identity",
]

publish(__name__, globals())
if TYPE_CHECKING:
    __version__: str
else:
    __getattr__ = version_getter("eventsourcing-persistence")
