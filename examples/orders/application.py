"""The ``Shop`` application: commands on orders. Its queries of many orders are
answered by the view of :mod:`examples.orders.projection`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.application import Application

from .domainmodel import Order

if TYPE_CHECKING:
    from uuid import UUID


class Shop(Application[Order]):
    def place_order(self, customer: str, amount: int) -> UUID:
        order = Order(customer, amount)
        self.save(order)
        return order.id

    def ship_order(self, order_id: UUID) -> int:
        """Ships the order; returns the notification ID of the change, to wait for."""
        order = self.repository.get(order_id)
        order.ship()
        return self.save(order)[-1].notification.id

    def cancel_order(self, order_id: UUID) -> int:
        """Cancels the order; returns the notification ID of the change."""
        order = self.repository.get(order_id)
        order.cancel()
        return self.save(order)[-1].notification.id

    def add_note(self, order_id: UUID, text: str) -> int:
        """Adds a note to the order; returns the notification ID of the change."""
        order = self.repository.get(order_id)
        order.add_note(text)
        return self.save(order)[-1].notification.id

    def get_order(self, order_id: UUID) -> Order:
        return self.repository.get(order_id)
