"""The mapper converts domain events to stored events and back, with optional
compression and encryption of the serialised state.

Stored formats: with a cipher that binds records (:meth:`Cipher.encrypt_record`),
each ciphertext authenticates its record's identity; without a cipher, the state
carries a checksum (see ``_formats``). A mapper writing to a store that holds
eventsourcing 9.1's formats writes those instead (``legacy_format``), so 9.1 can
still read the store; it reads every format whatever it writes.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import DomainEvent, upcast_state
from eventsourcing.persistence._errors import (
    ChecksumError,
    DecryptionError,
    UnreadableRecordError,
)
from eventsourcing.persistence._formats import (
    CHECKSUM_MAGIC,
    CHECKSUM_RESIDUE,
    _crc32,
    add_checksum,
    checksum_start,
    pack_crc,
    record_identity,
    topic_seed,
)
from eventsourcing.persistence._records import StoredEvent
from eventsourcing.utils import get_topic, resolve_stored_topic

if TYPE_CHECKING:
    from eventsourcing.persistence._transcoding import Transcoder

__all__ = ["Cipher", "Compressor", "Mapper"]

logger = logging.getLogger("eventsourcing.persistence")
_new = object.__new__
_setattr = object.__setattr__
# What is inside the checksum envelope (a slice made once: Python 3.11 makes one
# for each data[4:-4]).
_BODY = slice(4, -4)
# Topics of classes of the __main__ script already warned of, once a process.
_warned: set[str] = set()


class Compressor(ABC):
    """Base class for compressors."""

    @abstractmethod
    def compress(self, data: bytes) -> bytes:
        """Compress bytes."""

    @abstractmethod
    def decompress(self, data: bytes) -> bytes:
        """Decompress bytes."""


class Cipher(ABC):
    """Base class for ciphers.

    The infrastructure factory constructs the class named by "CIPHER_TOPIC" with the
    value of "CIPHER_KEY" as ``cipher_key``.

    A cipher that can authenticate data beside the plaintext overrides
    :meth:`encrypt_record` and :meth:`decrypt_record`, so that each stored
    ciphertext is bound to its record; the defaults encrypt without binding.
    """

    @abstractmethod
    def __init__(self, cipher_key: str) -> None:
        """Initialises cipher with given key."""

    @abstractmethod
    def encrypt(self, plaintext: bytes) -> bytes:
        """Return ciphertext for given plaintext."""

    @abstractmethod
    def decrypt(self, ciphertext: bytes) -> bytes:
        """Return plaintext for given ciphertext."""

    def encrypt_record(self, plaintext: bytes, associated_data: bytes) -> bytes:
        """Return ciphertext for a record's state that authenticates
        ``associated_data`` (the record's identity) too.

        .. versionadded:: 9.1.0
        """
        return self.encrypt(plaintext)

    def decrypt_record(self, ciphertext: bytes, associated_data: bytes) -> bytes:
        """Return the plaintext of a record's state encrypted by
        :meth:`encrypt_record` (or by :meth:`encrypt`, as before binding).

        .. versionadded:: 9.1.0
        """
        return self.decrypt(ciphertext)

    def is_bound(self, ciphertext: bytes) -> bool:
        """Tell whether a ciphertext is in the format of :meth:`encrypt_record`,
        rather than an older one (a cipher that does not bind records has only
        one format, so its ciphertexts always count as current).

        .. versionadded:: 9.1.0
        """
        return True


CHECKSUM_MISMATCH = (
    "the state does not match its checksum: it was changed or corrupted after it "
    "was written (or moved from another record)"
)


class Mapper:
    """Converts between domain event objects and :class:`StoredEvent` objects.

    Uses a :class:`Transcoder`, and optionally a cryptographic cipher and compressor.
    The state is compressed and then encrypted (or given a checksum, without a
    cipher) on the way in, decrypted (or verified) and then decompressed on the way
    out. Any failure to read a stored event raises
    :class:`~eventsourcing.persistence.UnreadableRecordError`, naming the record.
    """

    def __init__(
        self,
        transcoder: Transcoder,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
    ) -> None:
        self.transcoder = transcoder
        self.compressor = compressor
        self.cipher = cipher
        self.application_name = ""
        """The application whose events this mapper reads (in error messages)."""
        self.legacy_format: bool | None = None
        """Whether to write eventsourcing 9.1's formats (no checksum, unbound
        ciphertexts); ``None`` until the first event store using this mapper has
        looked at its store (see :class:`EventStore`), which then means ``False``."""
        # Per event class: its topic, class version and checksum seed (writing).
        self._writes: dict[type[Any], tuple[str, int, int]] = {}
        # Per topic: its event class, whether its states may need upcasting, and
        # its checksum seed (reading).
        self._reads: dict[str, tuple[type[Any], bool, int]] = {}

    def writes_current_format_for(self, state: bytes) -> bool:
        """Tell whether a stored state is in the formats this mapper writes to a
        new store (checksummed, or bound ciphertext), rather than 9.1's."""
        if self.cipher is not None:
            return self.cipher.is_bound(state)
        return state[:4] == CHECKSUM_MAGIC

    def from_domain_event(self, domain_event: DomainEvent[Any]) -> StoredEvent:
        """Converts the given domain event to a :class:`StoredEvent` object."""
        cls = type(domain_event)
        try:
            topic, class_version, seed = self._writes[cls]
        except KeyError:
            topic, class_version, seed = self._learn_class(cls)
        state = domain_event.__dict__.copy()
        # The stored event holds the originator ID and version in their own fields.
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        if class_version > 1:
            state["class_version"] = class_version
        data = self.transcoder.encode(state)
        if self.compressor is not None:
            data = self.compressor.compress(data)
        if self.cipher is None:
            # _seal(), inline: this is the hot path of every write.
            if not self.legacy_format:
                # One CRC over magic and data (two calls and a join cost more).
                data = CHECKSUM_MAGIC + data
                start = seed ^ originator_version ^ originator_id.int
                data += pack_crc(_crc32(data, start))
        else:
            data = self._seal(
                data,
                originator_id,
                originator_version,
                topic,
                legacy=bool(self.legacy_format),
            )
        # StoredEvent(...) without the call of its __init__().
        stored = _new(StoredEvent)
        fields = stored.__dict__
        fields["originator_id"] = originator_id
        fields["originator_version"] = originator_version
        fields["topic"] = topic
        fields["state"] = data
        return stored

    def _learn_class(self, cls: type[Any]) -> tuple[str, int, int]:
        """What writing an event of class ``cls`` needs, remembered."""
        topic = get_topic(cls)
        if topic.startswith("__main__:") and topic not in _warned:
            _warned.add(topic)
            logger.warning(
                "Storing %s under the topic %r: a class defined in the script "
                "that is run (__main__) cannot be loaded by any other program; "
                "define it in a module that the script imports",
                cls.__qualname__,
                topic,
            )
        learnt = self._writes[cls] = (
            topic,
            getattr(cls, "class_version", 1),
            topic_seed(topic),
        )
        return learnt

    def _seal(
        self,
        data: bytes,
        originator_id: Any,
        originator_version: int,
        topic: str,
        *,
        legacy: bool,
    ) -> bytes:
        """Encrypt (or give a checksum to) the compressed serialised state."""
        cipher = self.cipher
        if legacy:
            return data if cipher is None else cipher.encrypt(data)
        if cipher is not None:
            return cipher.encrypt_record(
                data, record_identity(originator_id, originator_version, topic)
            )
        return add_checksum(data, originator_id, originator_version, topic)

    def reseal(self, stored: StoredEvent) -> bytes:
        """The stored state of ``stored`` in the current formats, under the current
        cipher key: decrypted (or verified), then encrypted again (or given a
        checksum), its compressed serialised state unchanged, which is checked.

        An upgrade of a store writes each record's state again with it.

        .. versionadded:: 9.1.0
        """
        try:
            data = self._unseal(stored)
            state = self._seal(
                data,
                stored.originator_id,
                stored.originator_version,
                stored.topic,
                legacy=False,
            )
            again = StoredEvent(
                stored.originator_id, stored.originator_version, stored.topic, state
            )
            if self._unseal(again) != data:
                msg = "the state sealed again does not open to the same bytes"
                raise UnreadableRecordError(msg)
        except UnreadableRecordError as error:
            raise self._error(type(error), stored, str(error), "") from error
        return state

    def to_domain_event(self, stored: StoredEvent) -> DomainEvent[Any]:
        """Converts the given :class:`StoredEvent` to a domain event object.

        The state is upcast to the current version of the event class, and the event
        is constructed without calling ``__init__()``. Its topic must name a domain
        event class (see :func:`~eventsourcing.utils.resolve_stored_topic`).
        """
        topic = stored.topic
        originator_id = stored.originator_id
        originator_version = stored.originator_version
        try:
            try:
                cls, may_upcast, seed = self._reads[topic]
            except KeyError:
                cls, may_upcast, seed = None, False, topic_seed(topic)
            data = stored.state
            if self.cipher is None:
                if data[:4] == CHECKSUM_MAGIC:
                    # _unseal(), inline: this is the hot path of every read.
                    # (A state shorter than the envelope that matched by chance
                    # leaves nothing to decode, which fails below.)
                    start = seed ^ originator_version ^ originator_id.int
                    if _crc32(data, start) != CHECKSUM_RESIDUE:
                        raise ChecksumError(CHECKSUM_MISMATCH)
                    data = data[_BODY]
            else:
                data = self._unseal(stored)
            if self.compressor is not None:
                data = self._decompress(data)
            state: Any = self.transcoder.decode(data)
            if type(state) is not dict:
                msg = f"the state is a {type(state).__name__}, not an object"
                raise TypeError(msg)
            if cls is None:
                cls = resolve_stored_topic(topic, DomainEvent)
                may_upcast = getattr(cls, "class_version", 1) > 1
                self._reads[topic] = (cls, may_upcast, seed)
            if may_upcast or "class_version" in state:
                upcast_state(cls, state)
        except UnreadableRecordError as error:
            raise self._error(type(error), stored, str(error), "") from error
        except Exception as error:
            hint = self._hint(error)
            message = f"{type(error).__name__}: {error}"
            raise self._error(UnreadableRecordError, stored, message, hint) from error
        state["originator_id"] = originator_id
        state["originator_version"] = originator_version
        domain_event: DomainEvent[Any] = _new(cls)
        # The state becomes the event's __dict__ (set past a frozen class's
        # __setattr__): made here for this event, it needs no copy.
        _setattr(domain_event, "__dict__", state)
        return domain_event

    def _decompress(self, data: bytes) -> bytes:
        compressor: Compressor = self.compressor  # type: ignore[assignment]  # checked by the caller
        try:
            return compressor.decompress(data)
        except Exception as error:
            msg = (
                f"it does not decompress ({type(error).__name__}: {error}); "
                "COMPRESSOR_TOPIC must name the compressor it was written with"
            )
            raise UnreadableRecordError(msg) from error

    def _unseal(self, stored: StoredEvent) -> bytes:
        """Return the compressed serialised state: decrypted or verified."""
        data = stored.state
        if self.cipher is not None:
            if data[:4] == CHECKSUM_MAGIC:
                msg = (
                    "the state is not encrypted (it carries the checksum of state "
                    "stored without a cipher), but a cipher is configured: an "
                    "unencrypted record in an encrypted store is refused"
                )
                raise DecryptionError(msg)
            cipher = self.cipher
            if not cipher.is_bound(data):
                # An unbound ciphertext (as 9.1 wrote): no identity to make for it.
                return cipher.decrypt(data)
            identity = record_identity(
                stored.originator_id, stored.originator_version, stored.topic
            )
            data = cipher.decrypt_record(data, identity)
        elif data[:4] == CHECKSUM_MAGIC:
            start = checksum_start(
                stored.originator_id, stored.originator_version, stored.topic
            )
            if _crc32(data, start) != CHECKSUM_RESIDUE or len(data) < 8:
                raise ChecksumError(CHECKSUM_MISMATCH)
            data = data[4:-4]
        return data

    def _hint(self, error: BaseException) -> str:
        # The transcoder may raise the error itself or chain it.
        if not isinstance(error, UnicodeDecodeError) and not isinstance(
            error.__cause__, UnicodeDecodeError
        ):
            return ""
        if self.cipher is None:
            return (
                " The state is not text: if the store was written encrypted or "
                "compressed, set CIPHER_TOPIC and CIPHER_KEY, or COMPRESSOR_TOPIC, "
                "as they were."
            )
        return (
            " The state decrypted but is not text: if the store was written "
            "compressed, set COMPRESSOR_TOPIC as it was."
        )

    def _error(
        self,
        error_class: type[UnreadableRecordError],
        stored: StoredEvent,
        reason: str,
        hint: str,
    ) -> UnreadableRecordError:
        name = self.application_name
        where = f" of application {name!r}" if name else ""
        message = (
            f"Cannot read the stored event{where} with originator ID "
            f"{stored.originator_id}, version {stored.originator_version} and topic "
            f"{stored.topic!r:.200}: {reason.rstrip('.')}.{hint}"
        )
        return error_class(
            message,
            application_name=self.application_name or None,
            originator_id=stored.originator_id,
            originator_version=stored.originator_version,
            topic=stored.topic,
        )
