"""Aggregates of the demo: orders (the ``Orders`` application) and the sales
figures derived from them (the ``Sales`` process application)."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


class OrderError(Exception):
    """Raised when a command does not fit the state of an order."""


class Order(Aggregate):
    """An order collects items, then is placed; a placed order cannot change."""

    def __init__(self, customer: str) -> None:
        self.customer = customer
        self.items: list[tuple[str, int, int]] = []  # product, quantity, cents
        self.placed = False

    @property
    def total_cents(self) -> int:
        return sum(quantity * cents for _, quantity, cents in self.items)

    def add_item(self, product: str, quantity: int, unit_cents: int) -> None:
        if self.placed:
            msg = f"Order {self.id} is placed: items can't be added"
            raise OrderError(msg)
        if quantity < 1:
            msg = f"Quantity must be at least 1, not {quantity}"
            raise OrderError(msg)
        self._item_added(product, quantity, unit_cents)

    @event("ItemAdded")
    def _item_added(self, product: str, quantity: int, unit_cents: int) -> None:
        self.items.append((product, quantity, unit_cents))

    def place(self) -> None:
        if self.placed:
            msg = f"Order {self.id} is already placed"
            raise OrderError(msg)
        if not self.items:
            msg = f"Order {self.id} has no items: add one before placing it"
            raise OrderError(msg)
        # The event carries what followers need, so they never read our state.
        self._placed(self.customer, self.total_cents)

    class Placed(Aggregate.Event):
        """Declared explicitly, so that followers can refer to it by name."""

        customer: str
        total_cents: int

    @event(Placed)
    def _placed(self, customer: str, total_cents: int) -> None:
        self.placed = True


class CustomerSales(Aggregate):
    """What one customer has ordered; its ID is derived from the customer's name."""

    def __init__(self, customer: str) -> None:
        self.customer = customer
        self.orders = 0
        self.spent_cents = 0

    @staticmethod
    def create_id(customer: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/demo/customers/{customer}")

    @event("OrderCounted")
    def count_order(self, order_id: UUID, total_cents: int) -> None:
        self.orders += 1
        self.spent_cents += total_cents


class SalesTotals(Aggregate):
    """All placed orders together; there is one, with a fixed ID."""

    def __init__(self) -> None:
        self.orders = 0
        self.revenue_cents = 0

    @staticmethod
    def create_id() -> UUID:
        return uuid5(NAMESPACE_URL, "/demo/sales-totals")

    @event("OrderCounted")
    def count_order(self, order_id: UUID, total_cents: int) -> None:
        self.orders += 1
        self.revenue_cents += total_cents
