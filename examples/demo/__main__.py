"""Runs the demo: ``python -m examples.demo [--workload N] [--reset]``.

Commands go to the ``Orders`` application; ``Sales``, a process application in a
``System`` run by a ``SingleThreadedRunner``, follows Orders' notification log and
derives sales figures. Events are stored in SQLite under ``.demo-data/`` unless
"INFRASTRUCTURE_FACTORY" (or "PERSISTENCE_MODULE") is set, in which case the
environment is used as given. A second run rebuilds the state from the events.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification
from eventsourcing.system import SingleThreadedRunner

from .application import Orders, Sales, make_system
from .domainmodel import OrderError

DATA_DIR = Path(".demo-data")
DB_FILE = "demo.sqlite"
PRODUCTS = [("tea", 350), ("biscuits", 275), ("coffee", 800), ("notebook", 199)]
CUSTOMERS = ["Ada", "Grace", "Alan", "Barbara", "Edsger", "Margaret"]


def configure(data_dir: Path) -> tuple[dict[str, str] | None, str]:
    """Returns the runner's environment and a description of the storage."""
    backend = os.environ.get("INFRASTRUCTURE_FACTORY") or os.environ.get(
        "PERSISTENCE_MODULE"
    )
    if backend:
        return None, f"backend {backend!r}, configured by the environment"
    data_dir.mkdir(parents=True, exist_ok=True)
    db = data_dir / DB_FILE
    env = {"INFRASTRUCTURE_FACTORY": "sqlite", "SQLITE_DBNAME": str(db)}
    return env, f"SQLite file {db} (set INFRASTRUCTURE_FACTORY to use another backend)"


def heading(title: str) -> None:
    print(f"\n{title}\n{'-' * len(title)}")


def short(value: UUID) -> str:
    return str(value)[:8]


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def money(cents: int) -> str:
    return f"{cents / 100:.2f}"


def event_name(topic: str) -> str:
    """``examples.demo.domainmodel:Order.Placed`` -> ``Order.Placed``."""
    return topic.rpartition(":")[2]


def all_notifications(app: Application, batch: int = 500) -> Iterator[Notification]:
    start = 1
    while True:
        notifications = app.log.select(start, batch)
        yield from notifications
        if len(notifications) < batch:
            return
        start = notifications[-1].id + 1


def show_rebuilt_state(orders: Orders, sales: Sales, limit: int = 8) -> None:
    events_per_order: Counter[UUID] = Counter()
    order_ids: list[UUID] = []
    for notification in all_notifications(orders):
        events_per_order[notification.originator_id] += 1
        if event_name(notification.topic) == "Order.Created":
            order_ids.append(notification.originator_id)
    stored = orders.recorder.max_notification_id()
    derived = sales.recorder.max_notification_id()
    print(
        f"Found {stored} stored events of Orders and {derived} of Sales: "
        "rebuilding the state from them."
    )
    for order_id in order_ids[-limit:]:
        order = orders.get_order(order_id)
        status = "placed" if order.placed else "open"
        items = plural(len(order.items), "item")
        print(
            f"  order {short(order.id)}  {order.customer:<9} {items:<8}"
            f"  {money(order.total_cents):>8}  {status:<6}  rebuilt from "
            f"{events_per_order[order_id]} events (version {order.version})"
        )
    if len(order_ids) > limit:
        print(f"  ... and {len(order_ids) - limit} earlier orders")
    position = sales.recorder.max_tracking_id(orders.name)
    print(f"  Sales has processed Orders' notifications up to #{position}.")


def run_commands(orders: Orders) -> None:
    heading("Commands")

    def command(text: str, result: str = "") -> None:
        print(f"> {text}" + (f"  -> {result}" if result else ""))

    ada = orders.create_order("Ada")
    command("create_order('Ada')", f"order {short(ada)}")
    for product, quantity, cents in [("tea", 2, 350), ("biscuits", 1, 275)]:
        orders.add_item(ada, product, quantity, cents)
        command(f"add_item({short(ada)}, {product!r}, {quantity}, {cents})")
    orders.place_order(ada)
    command(f"place_order({short(ada)})")

    grace = orders.create_order("Grace")
    command("create_order('Grace')", f"order {short(grace)}")
    orders.add_item(grace, "coffee", 1, 800)
    command(f"add_item({short(grace)}, 'coffee', 1, 800)")
    orders.place_order(grace)
    command(f"place_order({short(grace)})")

    alan = orders.create_order("Alan")
    command("create_order('Alan')", f"order {short(alan)}")
    orders.add_item(alan, "notebook", 3, 199)
    command(f"add_item({short(alan)}, 'notebook', 3, 199)", "left open")

    try:
        orders.add_item(ada, "cake", 1, 450)
    except OrderError as error:
        command(f"add_item({short(ada)}, 'cake', 1, 450)", f"rejected: {error}")


def show_events(app: Application, after: int) -> None:
    heading(f"Events stored by {app.name} in this run")
    for notification in all_notifications(app):
        if notification.id <= after:
            continue
        event = app.mapper.to_domain_event(notification)
        fields = {
            k: v
            for k, v in event.__dict__.items()
            if k
            not in (
                "originator_id",
                "originator_version",
                "timestamp",
                "originator_topic",
            )
        }
        details = ", ".join(f"{k}={_show(v)}" for k, v in fields.items())
        print(
            f"  #{notification.id:<4} {event_name(notification.topic):<28}"
            f" {short(notification.originator_id)} v{notification.originator_version}"
            + (f"  {details}" if details else "")
        )


def _show(value: Any) -> str:
    return short(value) if isinstance(value, UUID) else repr(value)


def show_log(app: Application) -> None:
    heading(f"Notification log of {app.name} (sections of {app.log.section_size})")
    section_id: str | None = f"1,{app.log.section_size}"
    while section_id is not None:
        section = app.log[section_id]
        if section.id is None:
            print(f"  {section_id}: empty")
            break
        names = Counter(event_name(n.topic) for n in section.items)
        summary = ", ".join(f"{count} {name}" for name, count in names.items())
        following = f"next {section.next_id}" if section.next_id else "last section"
        print(f"  section {section.id:<9} {summary}  ({following})")
        section_id = section.next_id


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


class ProgressBar:
    """A plain-text progress bar on one line, redrawn with carriage returns."""

    def __init__(self, total: int, width: int = 30) -> None:
        self.total = total
        self.width = width
        self.shown = -1

    def update(self, done: int) -> None:
        percent = 100 * done // self.total if self.total else 100
        if percent == self.shown:
            return
        self.shown = percent
        filled = self.width * percent // 100
        bar = "#" * filled + "." * (self.width - filled)
        end = "\n" if done >= self.total else ""
        sys.stdout.write(f"\r  [{bar}] {percent:3d}%  {done}/{self.total} orders{end}")
        sys.stdout.flush()


def run_workload(orders: Orders, sales: Sales, count: int) -> None:
    heading(f"Workload: {count} orders")
    rng = random.Random(count)
    orders_before = orders.recorder.max_notification_id()
    sales_before = sales.recorder.max_notification_id()
    commands = 0
    bar = ProgressBar(count)
    bar.update(0)
    started = time.perf_counter()
    for done in range(1, count + 1):
        order_id = orders.create_order(rng.choice(CUSTOMERS))
        for product, cents in rng.sample(PRODUCTS, rng.randint(1, 3)):
            orders.add_item(order_id, product, rng.randint(1, 4), cents)
            commands += 1
        commands += 1
        if rng.random() < 0.8:
            orders.place_order(order_id)
            commands += 1
        bar.update(done)
    elapsed = max(time.perf_counter() - started, 1e-9)
    orders_events = orders.recorder.max_notification_id() - orders_before
    sales_events = sales.recorder.max_notification_id() - sales_before
    total_events = orders_events + sales_events
    print(
        f"  {count} orders, {commands} commands in {elapsed:.2f} s: "
        f"{count / elapsed:,.0f} orders/s, {commands / elapsed:,.0f} commands/s"
    )
    print(
        f"  {total_events} events stored ({orders_events} by Orders, {sales_events} "
        f"by Sales): {total_events / elapsed:,.0f} events/s, follower included"
    )


def close(*apps: Application) -> None:
    for app in apps:
        closer = getattr(app.factory, "close", None)
        if callable(closer):
            closer()


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m examples.demo", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--workload",
        type=int,
        metavar="N",
        help="generate N orders, with a progress bar and a throughput summary",
    )
    parser.add_argument(
        "--reset", action="store_true", help=f"delete the data folder {DATA_DIR}/"
    )
    args = parser.parse_args(argv)
    if args.workload is not None and args.workload < 1:
        parser.error(f"--workload must be at least 1, not {args.workload}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.reset:
        if DATA_DIR.exists():
            shutil.rmtree(DATA_DIR)
            print(f"Deleted {DATA_DIR}/.")
        else:
            print(f"Nothing to delete: there is no {DATA_DIR}/ here.")
        return 0

    env, storage = configure(DATA_DIR)
    print("eventsourcing demo: Orders takes commands, Sales follows its events")
    print(f"Storage: {storage}")

    runner = SingleThreadedRunner(make_system(), env=env)
    runner.start()  # Sales catches up with anything it has not processed yet
    try:
        orders = runner.get(Orders)
        sales = runner.get(Sales)
        print()
        if orders.recorder.max_notification_id():
            show_rebuilt_state(orders, sales)
        else:
            print("No stored events yet: starting fresh.")

        if args.workload:
            run_workload(orders, sales, args.workload)
            show_derived(orders, sales)
        else:
            orders_before = orders.recorder.max_notification_id()
            sales_before = sales.recorder.max_notification_id()
            run_commands(orders)
            show_events(orders, orders_before)
            show_events(sales, sales_before)
            show_log(orders)
            show_derived(orders, sales)
        print(
            f"\nRun it again to see the state rebuilt from the stored events; "
            f"--reset deletes {DATA_DIR}/."
        )
    finally:
        apps = list(runner.apps.values())
        runner.stop()
        close(*apps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
