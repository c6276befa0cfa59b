"""The status of a projection, as its view and lease tell it: who runs it, how
far its view got, and how far behind the application's log it is."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import TrackingRecorder

from ._projection import Projection, _construct_view
from ._worker import projection_lease

__all__ = ["ProjectionStatus", "projection_status"]


@dataclass(frozen=True)
class ProjectionStatus:
    """How far the view of a projection has processed an application's log.

    ``owner`` is the ``"host:pid"`` of the worker that holds the projection's
    lease (``None``: no worker, or the backend's leases cannot tell);
    ``position`` is the last notification the view recorded, ``last`` the
    application's last notification, and ``lag`` the notifications between
    them (those of topics the projection does not select included).

    .. versionadded:: 9.1.0
    """

    projection: str
    application: str
    owner: str | None
    position: int
    last: int
    lag: int

    def to_dict(self) -> dict[str, Any]:
        """The fields, for JSON."""
        return dataclasses.asdict(self)

    def unhealthy(self, max_lag: int | None = None) -> list[str]:
        """Why the projection is not healthy: no worker holds it, or it lags by
        more than ``max_lag`` notifications (if given). Empty when healthy."""
        reasons = []
        where = f"projection {self.projection} of {self.application}"
        if self.owner is None:
            reasons.append(f"{where} is run by no worker")
        if max_lag is not None and self.lag > max_lag:
            reasons.append(f"{where} lags by {self.lag} (more than {max_lag})")
        return reasons


def projection_status(
    application_class: type[Application[Any]],
    projection_class: type[Projection[Any]],
    view_class: Callable[..., TrackingRecorder],
    env: Mapping[str, str] | None = None,
) -> ProjectionStatus:
    """The status of a projection run by :class:`ProjectionWorker` (configured by
    ``env`` as its workers are).

    .. versionadded:: 9.1.0
    """
    app = application_class(env=env)
    try:
        view, factory = _construct_view(projection_class, view_class, env)
        try:
            leases = factory.leases()
            try:
                owner = leases.holder(projection_lease(projection_class.name, app.name))
            finally:
                leases.close()
            position = view.max_tracking_id(app.name)
            last = app.recorder.max_notification_id()
        finally:
            factory.close()
    finally:
        app.close()
    return ProjectionStatus(
        projection=projection_class.name,
        application=app.name,
        owner=owner,
        position=position,
        last=last,
        lag=max(0, last - position),
    )
