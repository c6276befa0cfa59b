"""Compressors for the state of stored events; ``ZlibCompressor`` is registered as
the compressor ``zlib`` (set "COMPRESSOR_TOPIC" to ``zlib``)."""

import zlib
from typing import TYPE_CHECKING

from eventsourcing.persistence import Compressor
from eventsourcing.utils import publish, version_getter

__all__ = ["ZlibCompressor"]


class ZlibCompressor(Compressor):
    """Compresses and decompresses with Python's :mod:`zlib` module."""

    def compress(self, data: bytes) -> bytes:
        """Compress bytes."""
        return zlib.compress(data)

    def decompress(self, data: bytes) -> bytes:
        """Decompress bytes."""
        return zlib.decompress(data)


publish(__name__, globals())
if TYPE_CHECKING:
    __version__: str
else:
    __getattr__ = version_getter("eventsourcing-persistence")
