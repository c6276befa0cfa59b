"""A generated workload: orders planned up front from a seed (so that the number
of commands is known before the first one), then sent to ``Orders`` one by one."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from .application import Orders, Sales

PRODUCTS = [("tea", 350), ("biscuits", 275), ("coffee", 800), ("notebook", 199)]
CUSTOMERS = ["Ada", "Grace", "Alan", "Barbara", "Edsger", "Margaret"]


@dataclass(frozen=True)
class PlannedOrder:
    """One order of the workload: its items (product, quantity, cents) and
    whether it is placed (most are; the rest stay open)."""

    customer: str
    items: tuple[tuple[str, int, int], ...]
    placed: bool

    @property
    def commands(self) -> int:
        return 1 + len(self.items) + self.placed


@dataclass(frozen=True)
class WorkloadResult:
    """What a workload did: ``seconds`` is the time the commands took, and
    ``catch_up`` the time Sales took after the last of them, when it runs in a
    process of its own (``None`` when it runs in this one, which is in step)."""

    orders: int
    commands: int
    seconds: float
    orders_events: int
    sales_events: int
    catch_up: float | None = None


def plan_orders(count: int, seed: int | None = None) -> list[PlannedOrder]:
    """Returns ``count`` orders, the same ones for the same seed (by default the
    count, so that a workload of one size is always the same workload)."""
    rng = random.Random(count if seed is None else seed)
    planned = []
    for _ in range(count):
        customer = rng.choice(CUSTOMERS)
        items = tuple(
            (product, rng.randint(1, 4), cents)
            for product, cents in rng.sample(PRODUCTS, rng.randint(1, 3))
        )
        planned.append(PlannedOrder(customer, items, placed=rng.random() < 0.8))
    return planned


def send(orders: Orders, order: PlannedOrder, done: Callable[[], None]) -> None:
    """Sends the commands of one planned order, calling ``done`` after each."""
    order_id = orders.create_order(order.customer)
    done()
    for product, quantity, cents in order.items:
        orders.add_item(order_id, product, quantity, cents)
        done()
    if order.placed:
        orders.place_order(order_id)
        done()


def run_workload(
    orders: Orders,
    sales: Sales,
    planned: list[PlannedOrder],
    done: Callable[[], None],
    catch_up: Callable[[], float] | None = None,
) -> WorkloadResult:
    """Sends every planned order and measures the rate (Sales' work included
    when it runs in this process), then waits for Sales with ``catch_up`` (which
    returns the seconds it waited) if it runs elsewhere."""
    orders_before = orders.recorder.max_notification_id()
    sales_before = sales.recorder.max_notification_id()
    started = time.perf_counter()
    for order in planned:
        send(orders, order, done)
    seconds = max(time.perf_counter() - started, 1e-9)
    waited = None if catch_up is None else catch_up()
    return WorkloadResult(
        orders=len(planned),
        commands=sum(order.commands for order in planned),
        seconds=seconds,
        orders_events=orders.recorder.max_notification_id() - orders_before,
        sales_events=sales.recorder.max_notification_id() - sales_before,
        catch_up=waited,
    )
