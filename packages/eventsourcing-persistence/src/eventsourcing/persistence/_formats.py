"""The formats of stored state: the checksum envelope of unencrypted state, and the
record identity that checksums and ciphertexts are bound to.

Unencrypted state is stored as ``MAGIC + crc + data``: ``MAGIC`` (``b"\\x00ES\\x01"``)
can begin neither JSON nor the output of the usual compressors, so state written
without it (by eventsourcing 9.1, or before checksums) is told apart and still read.
The CRC-32 covers the data, seeded with the topic and mixed with the originator ID
and version, so a changed byte, a relabelled topic or a row moved to another
aggregate is detected. It guards against corruption, not against an attacker who
can write the database: that takes a cipher, which authenticates instead.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from uuid import UUID

__all__ = ["CHECKSUM_MAGIC", "add_checksum", "has_checksum", "record_identity"]

CHECKSUM_MAGIC = b"\x00ES\x01"
_HEADER_SIZE = len(CHECKSUM_MAGIC) + 4
_MASK = 0xFFFFFFFF

# topic -> CRC-32 of its UTF-8 bytes, the seed of the checksums of its records.
_topic_seeds: dict[str, int] = {}


def _checksum(data: bytes, originator_id: UUID, version: int, topic: str) -> int:
    seed = _topic_seeds.get(topic)
    if seed is None:
        seed = _topic_seeds[topic] = zlib.crc32(topic.encode("utf-8", "surrogatepass"))
    number = originator_id.int
    return (
        zlib.crc32(data, seed)
        ^ number
        ^ (number >> 32)
        ^ (number >> 64)
        ^ (number >> 96)
        ^ version * 0x9E3779B1
    ) & _MASK


def add_checksum(data: bytes, originator_id: UUID, version: int, topic: str) -> bytes:
    """Return ``data`` in the checksum envelope, bound to the record's identity."""
    crc = _checksum(data, originator_id, version, topic)
    return CHECKSUM_MAGIC + crc.to_bytes(4, "big") + data


def has_checksum(state: bytes) -> bool:
    """Tell whether a stored state is in the checksum envelope."""
    return state[:4] == CHECKSUM_MAGIC


def verify_checksum(
    state: bytes, originator_id: UUID, version: int, topic: str
) -> bytes | None:
    """Return the data inside a checksum envelope, or ``None`` when the state does
    not match its checksum (or is too short to carry one)."""
    data = state[_HEADER_SIZE:]
    if len(state) < _HEADER_SIZE:
        return None
    expected = int.from_bytes(state[4:_HEADER_SIZE], "big")
    if _checksum(data, originator_id, version, topic) != expected:
        return None
    return data


def record_identity(originator_id: UUID, version: int, topic: str) -> bytes:
    """Return the bytes that identify a record (topic, originator ID and version),
    which a cipher authenticates with the ciphertext."""
    return b"".join(
        (
            topic.encode("utf-8", "surrogatepass"),
            b"\x00",
            originator_id.bytes,
            version.to_bytes(8, "big", signed=True),
        )
    )
