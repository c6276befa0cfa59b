"""Compressors for the state of stored events; ``ZlibCompressor`` is registered as
the compressor ``zlib`` (set "COMPRESSOR_TOPIC" to ``zlib``)."""

import zlib

from eventsourcing.persistence import Compressor

__all__ = ["ZlibCompressor"]


class ZlibCompressor(Compressor):
    """Compresses and decompresses with Python's :mod:`zlib` module."""

    def compress(self, data: bytes) -> bytes:
        """Compress bytes."""
        return zlib.compress(data)

    def decompress(self, data: bytes) -> bytes:
        """Decompress bytes."""
        return zlib.decompress(data)
