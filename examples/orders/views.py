"""The view of orders: what queries it answers (:class:`OrdersView`), and its
implementations in memory, on SQLite and on PostgreSQL.

The projection calls :meth:`OrdersView.add_order` and
:meth:`OrdersView.set_status` inside the transaction that records its position;
each method opens a transaction of the view, which joins that one.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import TrackingRecorder
from eventsourcing.popo import POPOTrackingRecorder
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder


@dataclass(frozen=True)
class OpenOrder:
    order_id: UUID
    amount: int


class OrdersView(TrackingRecorder):
    """The orders of every customer, kept by the ``CustomerOrders`` projection."""

    @abstractmethod
    def add_order(self, order_id: UUID, customer: str, amount: int, seq: int) -> None:
        """Adds an open order (``seq`` orders them: the notification ID)."""

    @abstractmethod
    def set_status(self, order_id: UUID, status: str) -> None:
        """Sets the status of an order: "shipped" or "cancelled"."""

    @abstractmethod
    def open_orders(self, customer: str) -> list[OpenOrder]:
        """The open orders of a customer, newest first."""

    @abstractmethod
    def best_customers(self, limit: int) -> list[tuple[str, int]]:
        """The customers who ordered most (cancelled orders aside), with their
        totals, largest first."""


class InMemoryOrdersView(POPOTrackingRecorder, OrdersView):
    """Orders in memory: for tests."""

    def add_order(self, order_id: UUID, customer: str, amount: int, seq: int) -> None:
        with self.transaction():
            self.table("orders")[order_id] = (customer, amount, "open", seq)

    def set_status(self, order_id: UUID, status: str) -> None:
        with self.transaction():
            orders = self.table("orders")
            customer, amount, _, seq = orders[order_id]
            orders[order_id] = (customer, amount, status, seq)

    def open_orders(self, customer: str) -> list[OpenOrder]:
        rows = [
            (seq, order_id, amount)
            for order_id, (who, amount, status, seq) in self.table("orders").items()
            if who == customer and status == "open"
        ]
        return [
            OpenOrder(order_id, amount) for _, order_id, amount in sorted(rows)[::-1]
        ]

    def best_customers(self, limit: int) -> list[tuple[str, int]]:
        totals: dict[str, int] = {}
        for customer, amount, status, _ in self.table("orders").values():
            if status != "cancelled":
                totals[customer] = totals.get(customer, 0) + amount
        return sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]


class SQLiteOrdersView(SQLiteTrackingRecorder, OrdersView):
    """Orders in a table of the SQLite database."""

    def create_table_statements(self) -> list[str]:
        orders = self.table("orders")
        return [
            *super().create_table_statements(),
            (
                f"CREATE TABLE IF NOT EXISTS {orders} (order_id TEXT PRIMARY KEY, "
                "customer TEXT NOT NULL, amount INTEGER NOT NULL, "
                "status TEXT NOT NULL, seq INTEGER NOT NULL)"
            ),
            (
                f"CREATE INDEX IF NOT EXISTS {self.table('orders_by_customer')} "
                f"ON {orders} (customer, status, seq)"
            ),
        ]

    def add_order(self, order_id: UUID, customer: str, amount: int, seq: int) -> None:
        with self.transaction() as connection:
            connection.execute(
                f"INSERT INTO {self.table('orders')} VALUES (?, ?, ?, 'open', ?)",
                (str(order_id), customer, amount, seq),
            )

    def set_status(self, order_id: UUID, status: str) -> None:
        with self.transaction() as connection:
            connection.execute(
                f"UPDATE {self.table('orders')} SET status = ? WHERE order_id = ?",
                (status, str(order_id)),
            )

    def open_orders(self, customer: str) -> list[OpenOrder]:
        rows = self.datastore.fetchall(
            f"SELECT order_id, amount FROM {self.table('orders')} "
            "WHERE customer = ? AND status = 'open' ORDER BY seq DESC",
            (customer,),
        )
        return [OpenOrder(UUID(order_id), amount) for order_id, amount in rows]

    def best_customers(self, limit: int) -> list[tuple[str, int]]:
        rows = self.datastore.fetchall(
            f"SELECT customer, SUM(amount) FROM {self.table('orders')} "
            "WHERE status != 'cancelled' GROUP BY customer "
            "ORDER BY SUM(amount) DESC, customer LIMIT ?",
            (limit,),
        )
        return [(customer, total) for customer, total in rows]


class PostgresOrdersView(PostgresTrackingRecorder, OrdersView):
    """Orders in a table of the PostgreSQL database."""

    def create_table_statements(self) -> list[str]:
        orders = self.table("orders")
        # An index is named without its schema: it goes in its table's.
        index = f'"{self.name.lower()}_orders_by_customer"'
        return [
            *super().create_table_statements(),
            (
                f"CREATE TABLE IF NOT EXISTS {orders} (order_id uuid PRIMARY KEY, "
                "customer text NOT NULL, amount bigint NOT NULL, "
                "status text NOT NULL, seq bigint NOT NULL)"
            ),
            f"CREATE INDEX IF NOT EXISTS {index} ON {orders} (customer, status, seq)",
        ]

    def add_order(self, order_id: UUID, customer: str, amount: int, seq: int) -> None:
        with self.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {self.table('orders')} VALUES (%s, %s, %s, 'open', %s)",
                (order_id, customer, amount, seq),
            )

    def set_status(self, order_id: UUID, status: str) -> None:
        with self.transaction() as cursor:
            cursor.execute(
                f"UPDATE {self.table('orders')} SET status = %s WHERE order_id = %s",
                (status, order_id),
            )

    def open_orders(self, customer: str) -> list[OpenOrder]:
        def select(cursor: Any) -> list[OpenOrder]:
            cursor.execute(
                f"SELECT order_id, amount FROM {self.table('orders')} "
                "WHERE customer = %s AND status = 'open' ORDER BY seq DESC",
                (customer,),
            )
            return [OpenOrder(order_id, amount) for order_id, amount in cursor]

        return self.datastore.read(select)

    def best_customers(self, limit: int) -> list[tuple[str, int]]:
        def select(cursor: Any) -> list[tuple[str, int]]:
            cursor.execute(
                f"SELECT customer, SUM(amount) FROM {self.table('orders')} "
                "WHERE status != 'cancelled' GROUP BY customer "
                "ORDER BY SUM(amount) DESC, customer LIMIT %s",
                (limit,),
            )
            return [(customer, int(total)) for customer, total in cursor]

        return self.datastore.read(select)
