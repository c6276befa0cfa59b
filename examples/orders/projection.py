"""The ``CustomerOrders`` projection: the shop's order events into an
:class:`~examples.orders.views.OrdersView`. Notes are of no interest to it, so
their events are not even read."""

from __future__ import annotations

from typing import Any

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from .domainmodel import Order
from .views import OrdersView


class CustomerOrders(Projection[OrdersView]):
    topics = (Order.Placed, Order.Shipped, Order.Cancelled)

    @singledispatchmethod
    def process_event(self, domain_event: DomainEvent[Any], tracking: Tracking) -> None:
        """Events of other types are not selected (see ``topics``)."""

    @process_event.register
    def _(self, domain_event: Order.Placed, tracking: Tracking) -> None:
        self.view.add_order(
            domain_event.originator_id,
            domain_event.customer,
            domain_event.amount,
            seq=tracking.notification_id,
        )

    @process_event.register
    def _(self, domain_event: Order.Shipped, tracking: Tracking) -> None:
        self.view.set_status(domain_event.originator_id, "shipped")

    @process_event.register
    def _(self, domain_event: Order.Cancelled, tracking: Tracking) -> None:
        self.view.set_status(domain_event.originator_id, "cancelled")
