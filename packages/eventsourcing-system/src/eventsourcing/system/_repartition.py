"""Changing the number of partitions of a follower: with its workers stopped, the
old partitions process what their leaders have recorded, and then every new
partition starts from there."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

from eventsourcing.persistence import RecordConflictError, Tracking

from ._application import Follower
from ._partitions import (
    MAX_PARTITIONS,
    PARTITIONS,
    decode_layout,
    encode_layout,
    layout_name,
    tracking_name,
)
from ._sources import open_leader
from ._worker import layout_lease, partition_lease, slot_lease

if TYPE_CHECKING:
    from eventsourcing.persistence import Leases

    from ._definition import System

__all__ = ["WorkersRunning", "repartition"]

_SLOTS_CHECKED = 8


class WorkersRunning(RuntimeError):
    """Raised by :func:`repartition` while workers of the application run."""


def repartition(
    system: System,
    app_name: str,
    partitions: int,
    env: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Changes the number of partitions of the follower ``app_name`` to
    ``partitions``, for each of its leaders: the partitions its positions were
    recorded with first process everything the leader has recorded, in this
    process, then each new partition records that position as its own. Returns,
    for each leader whose partitions changed, the position they start from.

    Every worker of the application must be stopped (:class:`WorkersRunning`
    otherwise); afterwards, start them with the new number ("PARTITIONS").

    .. versionadded:: 9.1.0
    """
    if not (type(partitions) is int and 1 <= partitions <= MAX_PARTITIONS):
        msg = (
            f"{partitions!r} is not a number of partitions: give a whole number "
            f"from 1 to {MAX_PARTITIONS}"
        )
        raise ValueError(msg)
    if app_name not in system.follows:
        msg = (
            f"{app_name!r} is not a follower of the system "
            f"(followers: {', '.join(system.follows) or 'none'})"
        )
        raise ValueError(msg)
    probe = cast(Follower, system.get_app_cls(app_name)(env=env))
    leases = probe.factory.leases()
    taken: list[str] = []
    try:
        leaders = system.follows[app_name]
        most = max(
            [partitions, *(probe.recorded_partitions(name) or 1 for name in leaders)]
        )
        _hold_everything(leases, app_name, most, taken)
        started: dict[str, int] = {}
        for leader_name in leaders:
            position = _repartition_leader(
                system, app_name, leader_name, partitions, probe, env
            )
            if position is not None:
                started[leader_name] = position
        return started
    finally:
        for name in reversed(taken):
            leases.release(name)
        leases.close()
        probe.close()


def _hold_everything(
    leases: Leases, app_name: str, partitions: int, taken: list[str]
) -> None:
    """Takes the layout lease, the partitions' leases and the workers' first
    slots, so that no worker runs meanwhile (a worker moves to the lowest free
    slot, so the first few tell)."""
    names = [layout_lease(app_name)]
    names += [partition_lease(app_name, p) for p in range(partitions)]
    names += [slot_lease(app_name, s) for s in range(_SLOTS_CHECKED)]
    for name in names:
        if not leases.try_acquire(name):
            holder = leases.holder(name)
            msg = (
                f"A worker of {app_name} is running ({holder or 'it holds'} "
                f"{name!r}): stop every worker of {app_name} first"
            )
            raise WorkersRunning(msg)
        taken.append(name)


def _repartition_leader(
    system: System,
    app_name: str,
    leader_name: str,
    partitions: int,
    probe: Follower,
    env: Mapping[str, str] | None,
) -> int | None:
    recorded = probe.recorded_partitions(leader_name)
    if recorded == partitions or (recorded is None and partitions == 1):
        return None
    recorder = probe.recorder
    layout = recorder.max_tracking_id(layout_name(leader_name))
    generation = decode_layout(layout)[0] + 1 if layout else 0
    position = 0
    if recorded is not None:
        # The old partitions catch up, so that one position holds for them all.
        old = cast(
            Follower,
            system.runnable_cls(app_name)(
                env={**(env or {}), f"{app_name.upper()}_{PARTITIONS}": str(recorded)}
            ),
        )
        source = open_leader(system, leader_name, env, old.env)
        try:
            old.follow(leader_name, source.log)
            old.pull_and_process(leader_name)
            position = old.position(leader_name)
        finally:
            source.close()
            old.close()
        for partition in range(partitions):
            start = Tracking(
                tracking_name(leader_name, partition, partitions), position
            )
            # Recorded already when that partition processed this notification.
            with contextlib.suppress(RecordConflictError):
                recorder.insert_events([], tracking=start)
    marker = Tracking(layout_name(leader_name), encode_layout(generation, partitions))
    recorder.insert_events([], tracking=marker)
    return position
