"""The ``Order`` aggregate: placed by a customer for an amount (in cents), then
shipped or cancelled; notes along the way."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event


class OrderError(Exception):
    """Raised when an order cannot do what was asked (it was shipped or cancelled)."""


class Order(Aggregate):
    class Placed(Aggregate.Created):
        customer: str
        amount: int

    class Shipped(Aggregate.Event):
        pass

    class Cancelled(Aggregate.Event):
        pass

    class NoteAdded(Aggregate.Event):
        text: str

    @event(Placed)
    def __init__(self, customer: str, amount: int) -> None:
        self.customer = customer
        self.amount = amount
        self.status = "open"
        self.notes: list[str] = []

    def ship(self) -> None:
        self._check_open("ship")
        self._shipped()

    @event(Shipped)
    def _shipped(self) -> None:
        self.status = "shipped"

    def cancel(self) -> None:
        self._check_open("cancel")
        self._cancelled()

    @event(Cancelled)
    def _cancelled(self) -> None:
        self.status = "cancelled"

    @event(NoteAdded)
    def add_note(self, text: str) -> None:
        self.notes.append(text)

    def _check_open(self, doing: str) -> None:
        if self.status != "open":
            msg = f"Cannot {doing} order {self.id}: it is {self.status}"
            raise OrderError(msg)
