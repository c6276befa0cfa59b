"""The status of a system's followers, as their databases and leases tell it:
for each partition, who holds it, how far it got, and how far behind it is."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from ._application import Follower
from ._partitions import partition_of
from ._sources import LeaderSource, open_leader
from ._worker import partition_lease

if TYPE_CHECKING:
    from ._definition import System

__all__ = ["PartitionStatus", "SystemStatus", "status"]

DEFAULT_SCAN_LIMIT = 10_000


@dataclass(frozen=True)
class PartitionStatus:
    """One partition of a follower's processing of one leader's log.

    ``owner`` is the ``"host:pid"`` of the worker that holds the partition
    (``None``: no one, or the backend's leases cannot tell). ``position`` is the
    last notification the partition processed, ``leader_position`` the leader's
    last notification (``None`` when the log is read over HTTP), and ``lag`` the
    notifications of this partition not yet processed; ``lag_exact`` is false
    when the log was too far ahead to count them all (``lag`` is then the count
    of those looked at).

    .. versionadded:: 9.1.0
    """

    follower: str
    leader: str
    partition: int
    partitions: int
    owner: str | None
    position: int
    leader_position: int | None
    lag: int | None
    lag_exact: bool = True

    def to_dict(self) -> dict[str, Any]:
        """The fields, for JSON."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SystemStatus:
    """The status of every partition of a system's followers, and the problems
    found (such as a number of partitions other than the recorded one).

    .. versionadded:: 9.1.0
    """

    partitions: list[PartitionStatus]
    problems: list[str]

    def unhealthy(self, max_lag: int | None = None) -> list[str]:
        """Why the system is not healthy: the problems, the partitions no worker
        holds, and those that lag by more than ``max_lag`` notifications (if
        given). Empty when healthy, so that a health check can return it."""
        reasons = list(self.problems)
        for p in self.partitions:
            where = f"{p.follower} partition {p.partition} of {p.leader}'s log"
            if p.owner is None:
                reasons.append(f"{where} is held by no worker")
            if max_lag is not None and p.lag is not None and p.lag > max_lag:
                reasons.append(f"{where} lags by {p.lag} (more than {max_lag})")
        return reasons


def status(
    system: System,
    env: Mapping[str, str] | None = None,
    *,
    apps: Iterable[str] | None = None,
    scan_limit: int = DEFAULT_SCAN_LIMIT,
) -> SystemStatus:
    """The status of the followers of ``system`` (or of those named in
    ``apps``), configured by ``env`` as their workers are.

    With more than one partition, the lag of each is counted by reading the
    leader's log after the partitions' lowest position, at most ``scan_limit``
    notifications of it.

    .. versionadded:: 9.1.0
    """
    names = list(system.follows) if apps is None else list(apps)
    for name in names:
        if name not in system.follows:
            msg = (
                f"{name!r} is not a follower of the system "
                f"(followers: {', '.join(system.follows) or 'none'})"
            )
            raise ValueError(msg)
    rows: list[PartitionStatus] = []
    problems: list[str] = []
    for name in names:
        follower = cast(Follower, system.get_app_cls(name)(env=env))
        leases = follower.factory.leases()
        sources: list[LeaderSource] = []
        try:
            for leader_name in system.follows[name]:
                source = open_leader(system, leader_name, env, follower.env)
                sources.append(source)
                recorded = follower.recorded_partitions(leader_name)
                if recorded not in (None, follower.partitions):
                    problems.append(
                        f"{name} is configured with {follower.partitions} "
                        f"partitions, but its positions in {leader_name}'s log "
                        f"were recorded with {recorded}"
                    )
                rows.extend(_partitions(follower, leases, source, scan_limit))
        finally:
            leases.close()
            for source in sources:
                source.close()
            follower.close()
    return SystemStatus(rows, problems)


def _partitions(
    follower: Follower, leases: Any, source: LeaderSource, scan_limit: int
) -> list[PartitionStatus]:
    count = follower.partitions
    positions = [
        follower.recorder.max_tracking_id(follower.tracking_name(source.name, p))
        for p in range(count)
    ]
    last = source.last_notification_id()
    lags: list[int | None]
    exact = True
    if last is None:
        lags = [None] * count
    elif count == 1:
        lags = [max(0, last - positions[0])]
    else:
        lags, exact = _count_lags(source, positions, last, scan_limit)
    return [
        PartitionStatus(
            follower=follower.name,
            leader=source.name,
            partition=p,
            partitions=count,
            owner=leases.holder(partition_lease(follower.name, p)),
            position=positions[p],
            leader_position=last,
            lag=lags[p],
            lag_exact=exact,
        )
        for p in range(count)
    ]


def _count_lags(
    source: LeaderSource, positions: list[int], last: int, scan_limit: int
) -> tuple[list[int | None], bool]:
    """Each partition's notifications after its position, up to ``last``."""
    count = len(positions)
    counts = [0] * count
    start = min(positions) + 1
    read = 0
    while start <= last and read < scan_limit:
        batch = source.log.select(start, min(500, scan_limit - read))
        if not batch:
            break
        for notification in batch:
            if notification.id > last:
                break
            partition = partition_of(notification.originator_id, count)
            if notification.id > positions[partition]:
                counts[partition] += 1
        read += len(batch)
        start = batch[-1].id + 1
    lags: list[int | None] = list(counts)
    return lags, start > last or read < scan_limit
