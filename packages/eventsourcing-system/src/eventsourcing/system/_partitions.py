"""Partitions of a follower: which partition processes an aggregate's events,
how each partition's position is named in the tracking table, and the record of
how many partitions the positions were recorded with.

With one partition, positions are named after the leader, exactly as they
always were. With N > 1, partition p of the leader "Worlds" records its
positions as "Worlds#p/N", and a tracking record named "Worlds#partitions"
holds N (in its notification ID, as ``generation << 12 | N``), so that a
follower configured with another number refuses to start rather than process
anything twice: see :func:`repartition` to change the number.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from eventsourcing.persistence import ConfigurationError

if TYPE_CHECKING:
    from uuid import UUID

__all__ = [
    "MAX_PARTITIONS",
    "PARTITIONS",
    "PartitionsChanged",
    "decode_layout",
    "encode_layout",
    "layout_name",
    "partition_of",
    "read_partitions",
    "tracking_name",
]

PARTITIONS = "PARTITIONS"
MAX_PARTITIONS = 1024
_COUNT_BITS = 12


class PartitionsChanged(ValueError):
    """Raised when a follower is configured with a number of partitions other
    than the one its positions in a leader's log were recorded with: processing
    on would skip or repeat notifications."""


def partition_of(originator_id: UUID, partitions: int) -> int:
    """The partition that processes the events of the aggregate
    ``originator_id``: the CRC-32 of its 16 bytes modulo ``partitions``, the same
    in every process, on every host and Python version (``hash()`` is not)."""
    return zlib.crc32(originator_id.bytes) % partitions


def tracking_name(leader_name: str, partition: int, partitions: int) -> str:
    """The name under which a partition records its positions in the leader's
    log: the leader's name itself with one partition."""
    if partitions == 1:
        return leader_name
    return f"{leader_name}#{partition}/{partitions}"


def layout_name(leader_name: str) -> str:
    """The tracking name whose record says how many partitions process the
    leader's log (absent with one partition, unless repartitioned)."""
    return f"{leader_name}#partitions"


def encode_layout(generation: int, partitions: int) -> int:
    """The notification ID of a layout record: later generations are larger."""
    return generation << _COUNT_BITS | partitions


def decode_layout(value: int) -> tuple[int, int]:
    """The generation and number of partitions of a layout record."""
    return value >> _COUNT_BITS, value & ((1 << _COUNT_BITS) - 1)


def read_partitions(
    env: Mapping[str, str], app_name: str, setting: str | None, default: object
) -> int:
    """The number of partitions: the "PARTITIONS" ``setting`` (prefixed with the
    application's name, or not) if set, else the class attribute ``default``."""
    if setting:
        prefixed = f"{app_name.upper()}_{PARTITIONS}"
        source = f"{prefixed if prefixed in env else PARTITIONS}={setting!r}"
        try:
            number: object = int(setting)
        except ValueError:
            number = None
    else:
        number = default
        source = f"{app_name}.partitions = {default!r}"
    if type(number) is not int or not 1 <= number <= MAX_PARTITIONS:
        msg = (
            f"{source} is not a number of partitions: give a whole number from 1 "
            f"to {MAX_PARTITIONS} (the default is 1)."
        )
        raise ConfigurationError(msg)
    return number
