"""The ``Invoice`` aggregate, in declarative style.

Version 2 of the ``Invoice.Created`` event (and of the aggregate, for snapshots)
added ``currency``: events and snapshots stored by version 1 are upcast to "EUR".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


@dataclass(frozen=True)
class Line:
    """A line of an invoice: a quantity of something at a unit price."""

    description: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.unit_price


class InvoiceError(Exception):
    """Raised when a command does not fit the state of the invoice."""


class Invoice(Aggregate):
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["currency"] = "EUR"

    class Created(Aggregate.Created):
        number: str
        customer: str
        currency: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["currency"] = "EUR"

    def __init__(self, number: str, customer: str, currency: str = "EUR") -> None:
        self.number = number
        self.customer = customer
        self.currency = currency
        self.lines: list[Line] = []
        self.issued_at: datetime | None = None
        self.paid = Decimal("0.00")

    @staticmethod
    def create_id(number: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/invoices/{number}")

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def amount_due(self) -> Decimal:
        return self.total - self.paid

    def add_line(self, description: str, quantity: int, unit_price: Decimal) -> None:
        if self.issued_at is not None:
            msg = f"Invoice {self.number} is issued: its lines can't change"
            raise InvoiceError(msg)
        if quantity < 1:
            msg = f"Quantity must be at least 1, not {quantity}"
            raise InvoiceError(msg)
        self._add_line(Line(description, quantity, unit_price))

    @event("LineAdded")
    def _add_line(self, line: Line) -> None:
        self.lines.append(line)

    def issue(self, at: datetime) -> None:
        if self.issued_at is not None:
            msg = f"Invoice {self.number} is already issued"
            raise InvoiceError(msg)
        if not self.lines:
            msg = f"Invoice {self.number} has no lines to issue"
            raise InvoiceError(msg)
        self._issue(at)

    @event("Issued")
    def _issue(self, at: datetime) -> None:
        self.issued_at = at

    def record_payment(self, amount: Decimal) -> None:
        if self.issued_at is None:
            msg = f"Invoice {self.number} is not issued yet"
            raise InvoiceError(msg)
        if not Decimal("0.00") < amount <= self.amount_due:
            msg = f"A payment of {amount} doesn't fit the {self.amount_due} due"
            raise InvoiceError(msg)
        self._record_payment(amount)

    @event("PaymentRecorded")
    def _record_payment(self, amount: Decimal) -> None:
        self.paid += amount
