"""Exceptions of the persistence layer, shaped after PEP 249 so that database-driver
errors arrive as one tree whatever the backend."""

from __future__ import annotations

__all__ = [
    "ChecksumError",
    "ConfigurationError",
    "DataError",
    "DatabaseError",
    "DecryptionError",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "PersistenceError",
    "ProgrammingError",
    "RecordConflictError",
    "UnreadableRecordError",
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


class UnreadableRecordError(DataError, ValueError):
    """Raised when a stored record cannot be turned back into a domain event: it
    does not decrypt, decompress, verify or decode, or its topic is refused.

    The message names the record and the settings to check; the attributes
    identify it (``None`` where not known), and the original error is chained.
    """

    def __init__(
        self,
        message: str,
        *,
        application_name: str | None = None,
        originator_id: object = None,
        originator_version: int | None = None,
        topic: str | None = None,
    ) -> None:
        super().__init__(message)
        self.application_name = application_name
        self.originator_id = originator_id
        self.originator_version = originator_version
        self.topic = topic


class ChecksumError(UnreadableRecordError):
    """Raised when a stored state does not match its checksum: it was changed or
    corrupted after it was written."""


class DecryptionError(UnreadableRecordError):
    """Raised when a ciphertext cannot be decrypted: wrong or missing key,
    truncated, tampered with, or moved to another record.

    Authenticated encryption refuses such data rather than decrypting it to
    garbage.
    """


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


class ConfigurationError(ValueError, OSError):
    """Raised when the environment variables that configure persistence are wrong:
    an unknown or ambiguous backend, cipher or compressor name, a topic that does not
    resolve or resolves to the wrong type, or an incomplete cipher configuration.

    A :class:`ValueError`, because the problem is a value the user supplied, and
    an :class:`OSError` (``EnvironmentError``), which 9.1 code catches.
    """
