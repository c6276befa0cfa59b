"""What the demo prints about the stored state, bounded however many events are
stored: the first and last few of anything long, and a count of the rest."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import (
    Application,
    Section,
    format_section_id,
    parse_section_id,
)
from eventsourcing.persistence import Notification

from .application import SNAPSHOT_INTERVAL, Orders, Sales
from .workload import CUSTOMERS, WorkloadResult

# Fields every event has; the others are what the event says.
COMMON_FIELDS = ("originator_id", "originator_version", "timestamp", "originator_topic")


def heading(title: str) -> None:
    print(f"\n{title}\n{'-' * len(title)}")


def short(value: UUID) -> str:
    return str(value)[:8]


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def money(cents: int) -> str:
    return f"{cents / 100:,.2f}"


def event_name(topic: str) -> str:
    """``examples.demo.domainmodel:Order.Placed`` -> ``Order.Placed``."""
    return topic.rpartition(":")[2]


def all_notifications(
    app: Application, start: int = 1, batch: int = 500
) -> Iterator[Notification]:
    while True:
        notifications = app.log.select(start, batch)
        yield from notifications
        if len(notifications) < batch:
            return
        start = notifications[-1].id + 1


def explain_system(storage: str, *, follower_process: bool = False) -> None:
    print("eventsourcing demo: Orders takes commands, Sales follows its events.")
    if follower_process:
        print(
            "Sales is a process application in a System, run by a worker in a "
            "process\nof its own: it polls Orders' notification log, processes "
            "each new event,\nand records what it derives with its position in "
            "the log, so each event\ncounts once."
        )
    else:
        print(
            "Sales is a process application in a System run by a "
            "SingleThreadedRunner:\nit processes each event as Orders stores it, "
            "and records what it derives\nwith its position in Orders' "
            "notification log, so each event counts once."
        )
    print(
        f"Sales snapshots its totals every {SNAPSHOT_INTERVAL} events, so each order"
        " costs the same\nhowever many came before: it replays at most "
        f"{SNAPSHOT_INTERVAL - 1} events of a total, never all."
    )
    print(f"Storage: {storage}")


@dataclass
class OrdersHistory:
    """What Orders' notification log says about the orders (read once, in order)."""

    events: int = 0
    order_ids: list[UUID] = field(default_factory=list)
    events_per_order: Counter[UUID] = field(default_factory=Counter)

    @classmethod
    def read(cls, orders: Orders) -> OrdersHistory:
        history = cls()
        for notification in all_notifications(orders):
            history.events += 1
            history.events_per_order[notification.originator_id] += 1
            if event_name(notification.topic) == "Order.Created":
                history.order_ids.append(notification.originator_id)
        return history


def show_rebuilt_state(
    orders: Orders, sales: Sales, history: OrdersHistory, limit: int = 8
) -> None:
    derived = sales.recorder.max_notification_id()
    print(
        f"Found {history.events} stored events of Orders and {derived} of Sales: "
        "rebuilding the state from them."
    )
    for order_id in history.order_ids[-limit:]:
        order = orders.get_order(order_id)
        status = "placed" if order.placed else "open"
        items = plural(len(order.items), "item")
        print(
            f"  order {short(order.id)}  {order.customer:<9} {items:<8}"
            f"  {money(order.total_cents):>8}  {status:<6}  rebuilt from "
            f"{history.events_per_order[order_id]} events (version {order.version})"
        )
    if len(history.order_ids) > limit:
        print(f"  ... and {len(history.order_ids) - limit} earlier orders")
    position = sales.recorder.max_tracking_id(orders.name)
    print(f"  Sales has processed Orders' notifications up to #{position}.")


def show_events(app: Application, after: int, head: int = 10, tail: int = 10) -> None:
    """Shows the events stored after notification ``after``: the first ``head``
    and the last ``tail`` of them."""
    heading(f"Events stored by {app.name} in this run")
    first_part = app.log.select(after + 1, head)
    for notification in first_part:
        _show_event(app, notification)
    if len(first_part) < head:
        return
    rest_start = first_part[-1].id + 1
    tail_start = max(rest_start, app.recorder.max_notification_id() - tail + 1)
    if tail_start > rest_start:
        print(f"  ... notifications #{rest_start} to #{tail_start - 1} not shown ...")
    for notification in all_notifications(app, start=tail_start):
        _show_event(app, notification)


def _show_event(app: Application, notification: Notification) -> None:
    event = app.mapper.to_domain_event(notification)
    details = ", ".join(
        f"{k}={_show(v)}" for k, v in vars(event).items() if k not in COMMON_FIELDS
    )
    print(
        f"  #{notification.id:<4} {event_name(notification.topic):<28}"
        f" {short(notification.originator_id)} v{notification.originator_version}"
        + (f"  {details}" if details else "")
    )


def _show(value: Any) -> str:
    return short(value) if isinstance(value, UUID) else repr(value)


def show_log(app: Application, head: int = 3, tail: int = 2) -> None:
    """Shows the first ``head`` sections of the log, following each one's
    ``next_id``, then the last ``tail`` sections."""
    size = app.log.section_size
    heading(f"Notification log of {app.name} (sections of {size})")
    # Where the last sections begin, were the IDs without gaps (in SQLite they are;
    # elsewhere it is still a valid section ID).
    tail_start = (
        (app.recorder.max_notification_id() - 1) // size - tail + 1
    ) * size + 1
    section_id: str | None = format_section_id(1, size)
    shown = 0
    while section_id is not None:
        first = parse_section_id(section_id)[0]
        if shown == head and first < tail_start:
            print(f"  ... notifications #{first} to #{tail_start - 1} not shown ...")
            section_id = format_section_id(tail_start, tail_start + size - 1)
        section = app.log[section_id]
        if section.id is None:
            print(f"  {section_id}: empty")
            return
        _show_section(section)
        shown += 1
        section_id = section.next_id


def _show_section(section: Section) -> None:
    names = Counter(event_name(n.topic) for n in section.items)
    summary = ", ".join(f"{count} {name}" for name, count in names.items())
    following = f"next {section.next_id}" if section.next_id else "last section"
    print(f"  section {section.id:<11} {summary}  ({following})")


def show_derived(orders: Orders, sales: Sales) -> None:
    heading("What Sales derived, following Orders")
    for customer in CUSTOMERS:
        customer_sales = sales.customer_sales(customer)
        if customer_sales is not None:
            print(
                f"  {customer:<9} orders placed: {customer_sales.orders:>6}"
                f"  spent: {money(customer_sales.spent_cents):>10}"
            )
    totals = sales.totals()
    if totals is not None:
        print(
            f"  {'all':<9} orders placed: {totals.orders:>6}"
            f"  revenue: {money(totals.revenue_cents):>8}"
        )
    position = sales.recorder.max_tracking_id(orders.name)
    print(
        f"  Sales has processed Orders' notifications 1 to {position} "
        f"(of {orders.recorder.max_notification_id()}), each exactly once."
    )


def show_throughput(result: WorkloadResult) -> None:
    where = "" if result.catch_up is None else " (Orders, in this process)"
    print(
        f"  {result.orders} orders, {result.commands} commands in "
        f"{result.seconds:.2f} s{where}: {result.orders / result.seconds:,.0f} "
        f"orders/s, {result.commands / result.seconds:,.0f} commands/s"
    )
    if result.catch_up is None:
        total_events = result.orders_events + result.sales_events
        print(
            f"  {total_events} events stored ({result.orders_events} by Orders, "
            f"{result.sales_events} by Sales): {total_events / result.seconds:,.0f} "
            "events/s, follower included"
        )
    else:
        print(f"  {follower_throughput(result)}")


def follower_throughput(result: WorkloadResult) -> str:
    """How the worker kept up: when it caught up, and its rate over the run."""
    seconds = result.seconds + (result.catch_up or 0.0)
    return (
        f"Sales' worker caught up {result.catch_up or 0.0:.2f} s after the last "
        f"command: {result.orders_events} notifications processed in "
        f"{seconds:.2f} s, {result.orders_events / seconds:,.0f}/s, and "
        f"{result.sales_events} events stored"
    )


def show_summary(orders: Orders, sales: Sales, storage: str) -> None:
    """A few lines, however much is stored: what ``--quiet`` prints."""
    history = OrdersHistory.read(orders)
    totals = sales.totals()
    placed, revenue = (totals.orders, totals.revenue_cents) if totals else (0, 0)
    position = sales.recorder.max_tracking_id(orders.name)
    print(
        f"Orders: {plural(len(history.order_ids), 'order')}, "
        f"{plural(history.events, 'event')}"
    )
    print(
        f"Sales:  {placed} placed, revenue {money(revenue)}; "
        f"{plural(sales.recorder.max_notification_id(), 'event')}, "
        f"processed Orders up to #{position}"
    )
    print(f"Data:   {storage}")
