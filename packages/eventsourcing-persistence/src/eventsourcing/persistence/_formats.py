"""The formats of stored state: the checksum envelope of unencrypted state, and the
record identity that checksums and ciphertexts are bound to.

Unencrypted state is stored as ``MAGIC + data + crc``: ``MAGIC`` (``b"\x00ES\x01"``)
can begin neither JSON nor the output of the usual compressors, so state written
without it (by eventsourcing 9.1, or before checksums) is told apart and still read.
``crc`` is the CRC-32 of ``MAGIC + data`` (little-endian), started from a value made
of the topic, the originator ID and the version, so a changed byte, a relabelled
topic or a row moved to another aggregate or version is detected (a CRC started
from another value always differs). With the CRC appended, the CRC of the whole
state is a constant, so verifying it needs no slicing. It guards against
corruption, not against an attacker who can write the database: that takes a
cipher, which authenticates.
"""

from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from uuid import UUID

__all__ = [
    "CHECKSUM_MAGIC",
    "CHECKSUM_RESIDUE",
    "add_checksum",
    "checksum_start",
    "pack_crc",
    "record_identity",
    "topic_seed",
]

CHECKSUM_MAGIC = b"\x00ES\x01"
# The CRC-32 of any data followed by its own CRC-32, little-endian.
CHECKSUM_RESIDUE = 0x2144DF1C
_crc32 = zlib.crc32
# A checksum as it is stored: four bytes, little-endian.
pack_crc = struct.Struct("<I").pack


def topic_seed(topic: str) -> int:
    """The part of a record's checksum start value that its topic gives.

    Not cached here: topics come from stored and remote data, so a cache of all
    of them could grow without bound (the mapper keeps those of its classes)."""
    return _crc32(topic.encode("utf-8", "surrogatepass"))


def checksum_start(originator_id: UUID, version: int, topic: str) -> int:
    """The start value of a record's checksum, made of its identity (zlib keeps
    its low 32 bits)."""
    return topic_seed(topic) ^ version ^ originator_id.int


def add_checksum(data: bytes, originator_id: UUID, version: int, topic: str) -> bytes:
    """Return ``data`` in the checksum envelope, bound to the record's identity."""
    start = _crc32(CHECKSUM_MAGIC, checksum_start(originator_id, version, topic))
    return b"".join((CHECKSUM_MAGIC, data, pack_crc(_crc32(data, start))))


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
