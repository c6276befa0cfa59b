"""The ``Invoicing`` application: invoices are found by their number, since each
invoice's ID is made from it, so two invoices can't share a number."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Transcoder, Transcoding

from .domainmodel import Invoice, Line


class LineAsDict(Transcoding):
    type = Line
    name = "invoice_line"

    def encode(self, obj: Line) -> dict[str, Any]:
        return {
            "description": obj.description,
            "quantity": obj.quantity,
            "unit_price": obj.unit_price,
        }

    def decode(self, data: dict[str, Any]) -> Line:
        return Line(**data)


class InvoiceDetails(TypedDict):
    number: str
    customer: str
    currency: str
    lines: list[tuple[str, int, Decimal]]
    total: Decimal
    amount_due: Decimal
    issued_at: datetime | None


class Invoicing(Application):
    def register_transcodings(self, transcoder: Transcoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(LineAsDict())

    def create_invoice(self, number: str, customer: str, currency: str = "EUR") -> UUID:
        invoice = Invoice(number=number, customer=customer, currency=currency)
        self.save(invoice)
        return invoice.id

    def add_line(
        self, number: str, description: str, quantity: int, unit_price: Decimal
    ) -> None:
        invoice = self.get_invoice(number)
        invoice.add_line(description, quantity, unit_price)
        self.save(invoice)

    def issue(self, number: str, at: datetime) -> None:
        invoice = self.get_invoice(number)
        invoice.issue(at)
        self.save(invoice)

    def record_payment(self, number: str, amount: Decimal) -> None:
        invoice = self.get_invoice(number)
        invoice.record_payment(amount)
        self.save(invoice)

    def get_invoice(self, number: str) -> Invoice:
        invoice: Invoice = self.repository.get(Invoice.create_id(number))
        return invoice

    def get_details(self, number: str) -> InvoiceDetails:
        invoice = self.get_invoice(number)
        return {
            "number": invoice.number,
            "customer": invoice.customer,
            "currency": invoice.currency,
            "lines": [
                (line.description, line.quantity, line.unit_price)
                for line in invoice.lines
            ],
            "total": invoice.total,
            "amount_due": invoice.amount_due,
            "issued_at": invoice.issued_at,
        }
