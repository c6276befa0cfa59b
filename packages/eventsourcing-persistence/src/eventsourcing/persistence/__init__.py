"""Persistence: transcoders, the mapper, recorders, the event store and the
infrastructure factory that picks a backend by entry point.

Exceptions (PEP 249 shaped, so any backend's driver errors look alike)::

    Exception
     +-- PersistenceError
     |    +-- InterfaceError
     |    +-- DatabaseError
     |         +-- DataError
     |         +-- OperationalError
     |         +-- IntegrityError
     |         |    +-- RecordConflictError
     |         +-- InternalError
     |         +-- ProgrammingError
     |         +-- NotSupportedError
     +-- ValueError
          +-- ConfigurationError   (wrong persistence environment variables)
          +-- TranscodingError     (state that cannot be encoded or decoded)
               +-- UnsupportedTypeError   (also a TypeError: no such transcoding)
"""

from eventsourcing.persistence._errors import (
    ConfigurationError,
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
    RecordConflictError,
)
from eventsourcing.persistence._eventstore import EventStore
from eventsourcing.persistence._factory import InfrastructureFactory
from eventsourcing.persistence._mapper import Cipher, Compressor, Mapper
from eventsourcing.persistence._recorders import (
    AggregateRecorder,
    ApplicationRecorder,
    ProcessRecorder,
    Recorder,
)
from eventsourcing.persistence._records import Notification, StoredEvent, Tracking
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

__all__ = [
    "AggregateRecorder",
    "ApplicationRecorder",
    "Cipher",
    "Compressor",
    "ConfigurationError",
    "DataError",
    "DatabaseError",
    "DatetimeAsISO",
    "DecimalAsStr",
    "EventStore",
    "InfrastructureFactory",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "JSONTranscoder",
    "Mapper",
    "NotSupportedError",
    "Notification",
    "OperationalError",
    "PersistenceError",
    "ProcessRecorder",
    "ProgrammingError",
    "RecordConflictError",
    "Recorder",
    "StoredEvent",
    "Tracking",
    "Transcoder",
    "Transcoding",
    "TranscodingError",
    "UUIDAsHex",
    "UnsupportedTypeError",
]
