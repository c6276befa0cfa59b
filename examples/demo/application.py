"""The demo's applications: ``Orders`` takes commands; ``Sales`` follows it and
derives sales figures from the placed orders, exactly once each."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.system import ProcessApplication, ProcessEvent, System

from .domainmodel import CustomerSales, Order, SalesTotals


class Orders(Application):
    def create_order(self, customer: str) -> UUID:
        order = Order(customer)
        self.save(order)
        return order.id

    def add_item(
        self, order_id: UUID, product: str, quantity: int, unit_cents: int
    ) -> None:
        order = self.get_order(order_id)
        order.add_item(product, quantity, unit_cents)
        self.save(order)

    def place_order(self, order_id: UUID) -> None:
        order = self.get_order(order_id)
        order.place()
        self.save(order)

    def get_order(self, order_id: UUID) -> Order:
        return cast(Order, self.repository.get(order_id))


class Sales(ProcessApplication):
    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        if not isinstance(domain_event, Order.Placed):
            return
        customer = domain_event.customer
        customer_id = CustomerSales.create_id(customer)
        if customer_id in self.repository:
            customer_sales = cast(CustomerSales, self.repository.get(customer_id))
        else:
            customer_sales = CustomerSales(customer)
        totals_id = SalesTotals.create_id()
        if totals_id in self.repository:
            totals = cast(SalesTotals, self.repository.get(totals_id))
        else:
            totals = SalesTotals()
        customer_sales.count_order(domain_event.originator_id, domain_event.total_cents)
        totals.count_order(domain_event.originator_id, domain_event.total_cents)
        process_event.save(customer_sales, totals)

    def customer_sales(self, customer: str) -> CustomerSales | None:
        customer_id = CustomerSales.create_id(customer)
        if customer_id not in self.repository:
            return None
        return cast(CustomerSales, self.repository.get(customer_id))

    def totals(self) -> SalesTotals | None:
        totals_id = SalesTotals.create_id()
        if totals_id not in self.repository:
            return None
        return cast(SalesTotals, self.repository.get(totals_id))


def make_system() -> System:
    """Sales follows Orders."""
    return System(pipes=[[Orders, Sales]])
