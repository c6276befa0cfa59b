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
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from uuid import UUID


__all__ = [
    "CHECKSUM_MAGIC",
    "CHECKSUM_RESIDUE",
    "CRC32",
    "add_checksum",
    "checksum_start",
    "crc32_implementation",
    "pack_crc",
    "record_identity",
    "topic_seed",
]

CHECKSUM_MAGIC = b"\x00ES\x01"
# The CRC-32 of any data followed by its own CRC-32, little-endian.
CHECKSUM_RESIDUE = 0x2144DF1C


class CRC32(Protocol):
    """The signature of ``zlib.crc32``."""

    def __call__(self, data: bytes, value: int = 0, /) -> int: ...


def crc32_implementation() -> CRC32:
    """zlib-ng's CRC-32 when it is installed (the ``zlib-ng`` extra), else zlib's.

    Both compute the same checksum, so either reads what the other wrote; zlib-ng's
    takes under half the time on states of a few hundred bytes, on which the zlib
    most systems ship (1.2.x) spends most of a checksummed read."""
    try:
        from zlib_ng import zlib_ng
    except ImportError:
        return zlib.crc32
    return zlib_ng.crc32


_crc32 = crc32_implementation()
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
    enveloped = CHECKSUM_MAGIC + data
    start = checksum_start(originator_id, version, topic)
    return enveloped + pack_crc(_crc32(enveloped, start))


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
