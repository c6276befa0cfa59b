"""The demo's applications: ``Orders`` takes commands; ``Sales`` follows it and
derives sales figures from the placed orders, exactly once each."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFound, Application
from eventsourcing.system import (
    ProcessApplication,
    ProcessEvent,
    SingleThreadedRunner,
    System,
)

from .domainmodel import CustomerSales, Order, SalesTotals

# Every placed order adds an event to two long-lived aggregates of Sales; with a
# snapshot every SNAPSHOT_INTERVAL events, Sales replays fewer than that many
# events of each, however many orders came before. A smaller interval replays
# less and writes more snapshots: 10 was the fastest of 5, 10, 25, 50 and 100
# (about 2,200 commands/s against 1,250 with 100, on SQLite).
SNAPSHOT_INTERVAL = 10


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
    snapshotting_intervals: ClassVar[Mapping[type, int]] = {
        CustomerSales: SNAPSHOT_INTERVAL,
        SalesTotals: SNAPSHOT_INTERVAL,
    }

    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        if not isinstance(domain_event, Order.Placed):
            return
        customer = domain_event.customer
        customer_sales = self.customer_sales(customer) or CustomerSales(customer)
        totals = self.totals() or SalesTotals()
        customer_sales.count_order(domain_event.originator_id, domain_event.total_cents)
        totals.count_order(domain_event.originator_id, domain_event.total_cents)
        process_event.save(customer_sales, totals)

    def customer_sales(self, customer: str) -> CustomerSales | None:
        try:
            found = self.repository.get(CustomerSales.create_id(customer))
        except AggregateNotFound:
            return None
        return cast(CustomerSales, found)

    def totals(self) -> SalesTotals | None:
        try:
            found = self.repository.get(SalesTotals.create_id())
        except AggregateNotFound:
            return None
        return cast(SalesTotals, found)


def make_system() -> System:
    """Sales follows Orders."""
    return System(pipes=[[Orders, Sales]])


@contextmanager
def running(env: Mapping[str, str] | None) -> Iterator[tuple[Orders, Sales]]:
    """Runs the system in this process, Sales processing each event of Orders as
    it is stored, and stops it afterwards. (``examples.demo.worker`` runs Sales
    in a process of its own instead.)"""
    runner = SingleThreadedRunner(make_system(), env=env)
    runner.start()  # Sales catches up with anything it has not processed yet
    apps = list(runner.apps.values())
    try:
        yield runner.get(Orders), runner.get(Sales)
    finally:
        runner.stop()
        for app in apps:
            app.close()
