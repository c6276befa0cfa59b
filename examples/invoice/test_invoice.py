"""Tests of the invoice example: the invoicing scenario, and the upcasting of events
and snapshots stored by version 1 of the invoice model, on each backend."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from eventsourcing.domain import TZINFO, Snapshot
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.utils import get_topic
from examples.invoice.application import Invoicing
from examples.invoice.domainmodel import Invoice, InvoiceError, Line


def make_app(**env: str) -> Invoicing:
    return Invoicing(env=env)


def test_invoicing(env: dict[str, str]) -> None:
    app = make_app(**env)
    app.create_invoice("INV-1", customer="Acme", currency="GBP")
    app.add_line("INV-1", "Widgets", 3, Decimal("2.50"))
    app.add_line("INV-1", "Gadget", 1, Decimal("10.00"))
    issued_at = datetime(2021, 6, 1, 12, tzinfo=TZINFO)
    app.issue("INV-1", at=issued_at)

    details = app.get_details("INV-1")
    assert details["customer"] == "Acme"
    assert details["currency"] == "GBP"
    assert details["lines"] == [
        ("Widgets", 3, Decimal("2.50")),
        ("Gadget", 1, Decimal("10.00")),
    ]
    assert details["total"] == Decimal("17.50")
    assert details["issued_at"] == issued_at

    app.record_payment("INV-1", Decimal("7.50"))
    assert app.get_details("INV-1")["amount_due"] == Decimal("10.00")
    app.record_payment("INV-1", Decimal("10.00"))
    assert app.get_details("INV-1")["amount_due"] == Decimal("0.00")

    # The lines were stored with the custom transcoding.
    section = app.log["1,10"]
    assert b"invoice_line" in section.items[1].state


def test_commands_that_do_not_fit_record_nothing(env: dict[str, str]) -> None:
    app = make_app(**env)
    app.create_invoice("INV-2", customer="Acme")
    with pytest.raises(InvoiceError, match="no lines"):
        app.issue("INV-2", at=datetime.now(tz=TZINFO))
    with pytest.raises(InvoiceError, match="not issued"):
        app.record_payment("INV-2", Decimal("1.00"))
    with pytest.raises(InvoiceError, match="at least 1"):
        app.add_line("INV-2", "Nothing", 0, Decimal("1.00"))
    app.add_line("INV-2", "Thing", 1, Decimal("1.00"))
    app.issue("INV-2", at=datetime.now(tz=TZINFO))
    with pytest.raises(InvoiceError, match="already issued"):
        app.issue("INV-2", at=datetime.now(tz=TZINFO))
    with pytest.raises(InvoiceError, match="can't change"):
        app.add_line("INV-2", "More", 1, Decimal("1.00"))
    with pytest.raises(InvoiceError, match="doesn't fit"):
        app.record_payment("INV-2", Decimal("2.00"))
    assert app.get_invoice("INV-2").version == 3

    # Invoice numbers are unique: the ID is made from the number.
    with pytest.raises(IntegrityError):
        app.create_invoice("INV-2", customer="Someone else")
    assert app.get_details("INV-2")["customer"] == "Acme"


def encode_state(app: Invoicing, state: dict[str, Any]) -> bytes:
    """Encodes state as the application's mapper does, for writing old records."""
    data = app.mapper.transcoder.encode(state)
    if app.mapper.compressor is not None:
        data = app.mapper.compressor.compress(data)
    if app.mapper.cipher is not None:
        data = app.mapper.cipher.encrypt(data)
    return data


def test_version_1_created_event_is_upcast(env: dict[str, str]) -> None:
    app = make_app(**env)
    invoice_id = Invoice.create_id("INV-OLD")
    # A created event as version 1 of the model stored it: no currency.
    version_1_state = {
        "timestamp": datetime(2020, 1, 1, tzinfo=TZINFO),
        "originator_topic": get_topic(Invoice),
        "number": "INV-OLD",
        "customer": "Old Customer",
    }
    app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=invoice_id,
                originator_version=1,
                topic=get_topic(Invoice.Created),
                state=encode_state(app, version_1_state),
            )
        ]
    )

    invoice = app.get_invoice("INV-OLD")
    assert invoice.currency == "EUR"
    assert invoice.customer == "Old Customer"

    # New events follow the upcast one.
    app.add_line("INV-OLD", "Thing", 2, Decimal("1.25"))
    assert app.get_details("INV-OLD")["total"] == Decimal("2.50")


def test_version_1_snapshot_is_upcast(env: dict[str, str]) -> None:
    app = make_app(IS_SNAPSHOTTING_ENABLED="y", **env)
    app.create_invoice("INV-3", customer="Acme", currency="USD")
    app.add_line("INV-3", "Thing", 1, Decimal("5.00"))
    invoice = app.get_invoice("INV-3")

    # A snapshot as version 1 of the model took it: no currency in the state.
    snapshot = Snapshot.take(invoice)
    version_1_state = dict(snapshot.state)
    version_1_state.pop("currency")
    version_1_state.pop("class_version", None)
    assert app.snapshots is not None
    app.snapshots.put(
        [
            Snapshot(
                originator_id=snapshot.originator_id,
                originator_version=snapshot.originator_version,
                timestamp=snapshot.timestamp,
                topic=snapshot.topic,
                state=version_1_state,
            )
        ]
    )

    copy = app.get_invoice("INV-3")
    assert copy.currency == "EUR"  # upcast from the snapshot, not replayed
    assert copy.lines == [Line("Thing", 1, Decimal("5.00"))]
    assert copy.version == 2
