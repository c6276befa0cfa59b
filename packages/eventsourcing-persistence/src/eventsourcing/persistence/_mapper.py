"""The mapper converts domain events to stored events and back, with optional
compression and encryption of the serialised state."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import upcast_state
from eventsourcing.persistence._records import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

if TYPE_CHECKING:
    from eventsourcing.domain import DomainEvent
    from eventsourcing.persistence._transcoding import Transcoder

__all__ = ["Cipher", "Compressor", "Mapper"]


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


class Mapper:
    """Converts between domain event objects and :class:`StoredEvent` objects.

    Uses a :class:`Transcoder`, and optionally a cryptographic cipher and compressor.
    The state is compressed and then encrypted on the way in, decrypted and then
    decompressed on the way out.
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
        self._topics: dict[type[Any], str] = {}
        self._classes: dict[str, type[Any]] = {}

    def from_domain_event(self, domain_event: DomainEvent) -> StoredEvent:
        """Converts the given domain event to a :class:`StoredEvent` object."""
        cls = type(domain_event)
        topic = self._topics.get(cls)
        if topic is None:
            topic = self._topics[cls] = get_topic(cls)
        state = domain_event.__dict__.copy()
        # The stored event holds the originator ID and version in their own fields.
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(cls, "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        data = self.transcoder.encode(state)
        if self.compressor is not None:
            data = self.compressor.compress(data)
        if self.cipher is not None:
            data = self.cipher.encrypt(data)
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=topic,
            state=data,
        )

    def to_domain_event(self, stored: StoredEvent) -> DomainEvent:
        """Converts the given :class:`StoredEvent` to a domain event object.

        The state is upcast to the current version of the event class, and the event
        is constructed without calling ``__init__()``.
        """
        data = stored.state
        if self.cipher is not None:
            data = self.cipher.decrypt(data)
        if self.compressor is not None:
            data = self.compressor.decompress(data)
        state: dict[str, Any] = self.transcoder.decode(data)
        cls = self._classes.get(stored.topic)
        if cls is None:
            cls = self._classes[stored.topic] = resolve_topic(stored.topic)
        if "class_version" in state or getattr(cls, "class_version", 1) > 1:
            upcast_state(cls, state)
        state["originator_id"] = stored.originator_id
        state["originator_version"] = stored.originator_version
        domain_event: DomainEvent = object.__new__(cls)
        domain_event.__dict__.update(state)
        return domain_event
