"""The scripted commands of a run without a workload: three orders, one left
open, and a command that the order rejects."""

from __future__ import annotations

from collections.abc import Callable

from .application import Orders
from .domainmodel import OrderError
from .report import short


def run_commands(orders: Orders, say: Callable[[str], object] = print) -> None:
    """Sends the commands, saying each one and its result."""

    def command(text: str, result: str = "") -> None:
        say(f"> {text}" + (f"  -> {result}" if result else ""))

    say("\nCommands\n--------")
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
