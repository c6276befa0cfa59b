"""Runs the demo: ``python -m examples.demo [--workload N] [--quiet] [--reset]``.

Commands go to the ``Orders`` application; ``Sales``, a process application in a
``System`` run by a ``SingleThreadedRunner``, follows Orders' notification log and
derives sales figures. Events are stored in SQLite under ``.demo-data/`` unless
"INFRASTRUCTURE_FACTORY" (or "PERSISTENCE_MODULE") is set, in which case the
environment is used as given. A second run rebuilds the state from the events.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from .application import Orders, Sales, running
from .progress import progress
from .report import (
    OrdersHistory,
    explain_system,
    heading,
    show_derived,
    show_events,
    show_log,
    show_rebuilt_state,
    show_summary,
    show_throughput,
)
from .script import run_commands
from .workload import plan_orders, run_workload

DATA_DIR = Path(".demo-data")


def configured_backend() -> str | None:
    """The backend chosen by the environment, if any."""
    return os.environ.get("INFRASTRUCTURE_FACTORY") or os.environ.get(
        "PERSISTENCE_MODULE"
    )


def configure(data_dir: Path) -> tuple[dict[str, str] | None, str]:
    """Returns the runner's environment and a description of the storage.

    Each application gets a file of its own: a connection's page cache then
    stays valid between its transactions, which another application's writes
    to the same file would void (a quarter fewer system calls per command).
    """
    backend = configured_backend()
    if backend:
        return None, f"backend {backend!r}, configured by the environment"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {"INFRASTRUCTURE_FACTORY": "sqlite"}
    files = []
    for app in (Orders, Sales):
        db = data_dir / f"{app.name.lower()}.sqlite"
        env[f"{app.name.upper()}_SQLITE_DBNAME"] = str(db)
        files.append(str(db))
    return env, f"SQLite files {' and '.join(files)}"


def reset(data_dir: Path) -> None:
    if data_dir.exists():
        shutil.rmtree(data_dir)
        print(f"Deleted {data_dir}/.")
    else:
        print(f"Nothing to delete: there is no {data_dir}/ here.")
    if configured_backend():
        print("The backend configured by the environment keeps its data.")


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
        "--quiet",
        action="store_true",
        help="print only a short summary of what is stored",
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help=f"delete the data folder {DATA_DIR}/ first, to start afresh",
    )
    args = parser.parse_args(argv)
    if args.workload is not None and args.workload < 1:
        parser.error(f"--workload must be at least 1, not {args.workload}")
    return args


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    """Runs the demo; ``console`` is where the progress goes (by default stdout,
    drawn live only when it is a terminal)."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.reset:
        reset(DATA_DIR)
    env, storage = configure(DATA_DIR)
    if not args.quiet:
        explain_system(storage)
        if env is not None:
            print(
                "(One file per application; set INFRASTRUCTURE_FACTORY to use "
                "another backend.)"
            )
    with running(env) as (orders, sales):
        if args.quiet:
            run_quietly(orders, sales, args.workload, storage)
            return 0
        print()
        if orders.recorder.max_notification_id():
            show_rebuilt_state(orders, sales, OrdersHistory.read(orders))
        else:
            print("No stored events yet: starting fresh.")
        if args.workload:
            heading(f"Workload: {args.workload} orders")
            planned = plan_orders(args.workload)
            total = sum(order.commands for order in planned)
            with progress(total, "commands", console) as done:
                result = run_workload(orders, sales, planned, done)
            show_throughput(result)
        else:
            orders_before = orders.recorder.max_notification_id()
            sales_before = sales.recorder.max_notification_id()
            run_commands(orders)
            show_events(orders, orders_before)
            show_events(sales, sales_before)
            show_log(orders)
        show_derived(orders, sales)
    print(
        "\nRun it again to see the state rebuilt from the stored events;\n--quiet "
        f"prints a summary only, and --reset deletes {DATA_DIR}/ first."
    )
    return 0


def run_quietly(
    orders: Orders, sales: Sales, workload: int | None, storage: str
) -> None:
    if workload:
        result = run_workload(orders, sales, plan_orders(workload), lambda: None)
        print(
            f"Workload: {result.orders} orders, {result.commands} commands in "
            f"{result.seconds:.2f} s, {result.commands / result.seconds:,.0f} "
            "commands/s"
        )
    else:
        run_commands(orders, say=lambda _: None)
    show_summary(orders, sales, storage)


if __name__ == "__main__":
    sys.exit(main())
