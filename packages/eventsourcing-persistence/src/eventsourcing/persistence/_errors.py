"""Exceptions of the persistence layer, shaped after PEP 249 so that database-driver
errors arrive as one tree whatever the backend."""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "DataError",
    "DatabaseError",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "PersistenceError",
    "ProgrammingError",
    "RecordConflictError",
]


class PersistenceError(Exception):
    """The base class of the other exceptions in this module.

    Exception class names follow https://www.python.org/dev/peps/pep-0249/#exceptions
    """


class InterfaceError(PersistenceError):
    """Raised for errors related to the database interface rather than the database."""


class DatabaseError(PersistenceError):
    """Raised for errors that are related to the database."""


class DataError(DatabaseError):
    """Raised for errors due to problems with the processed data."""


class OperationalError(DatabaseError):
    """Raised for errors related to the database's operation, such as a disconnect."""


class IntegrityError(DatabaseError):
    """Raised when the relational integrity of the database is affected."""


class RecordConflictError(IntegrityError):
    """Raised when a record conflicts with one already recorded: an aggregate event
    with the same originator ID and version, or an already recorded tracking record.
    """


class InternalError(DatabaseError):
    """Raised when the database encounters an internal error."""


class ProgrammingError(DatabaseError):
    """Raised for programming errors, such as a missing table or a syntax error."""


class NotSupportedError(DatabaseError):
    """Raised when a method or database API is not supported by the database."""


class ConfigurationError(ValueError):
    """Raised when the environment variables that configure persistence are wrong:
    an unknown or ambiguous backend, cipher or compressor name, a topic that does not
    resolve or resolves to the wrong type, or an incomplete cipher configuration.

    A :class:`ValueError`, because the problem is a value the user supplied.
    """
