"""Runs the demo: ``python -m examples.demo [--workload N] [--quiet] [--reset]
[--follower-process]``.

Commands go to the ``Orders`` application; ``Sales``, a process application in a
``System`` run by a ``SingleThreadedRunner`` (or by a worker in a process of its
own, with ``--follower-process``), follows Orders' notification log and derives
sales figures. Events are stored in SQLite under ``.demo-data/`` unless
"INFRASTRUCTURE_FACTORY" (or "PERSISTENCE_MODULE") is set, in which case the
environment is used as given. A second run rebuilds the state from the events.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from rich.console import Console

from .application import Orders, Sales, running
from .progress import progress
from .report import (
    OrdersHistory,
    explain_system,
    follower_throughput,
    heading,
    show_derived,
    show_events,
    show_log,
    show_rebuilt_state,
    show_summary,
    show_throughput,
)
from .script import run_commands
from .worker import COMMAND, DemoError, SalesWorker, running_in_worker
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
    parser.add_argument(
        "--follower-process",
        action="store_true",
        help="run Sales in a worker process of its own (python "
        f"{' '.join(COMMAND)}), started and stopped by the demo",
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
        explain_system(storage, follower_process=args.follower_process)
        if env is not None:
            print(
                "(One file per application; set INFRASTRUCTURE_FACTORY to use "
                "another backend.)"
            )
    try:
        with deployed(env, follower_process=args.follower_process) as (
            orders,
            sales,
            worker,
        ):
            catch_up = (
                None if worker is None else partial(worker.catch_up, orders, sales)
            )
            if worker is not None:
                say_where(worker, args.quiet)
            if args.quiet:
                run_quietly(orders, sales, args.workload, storage, catch_up)
            else:
                run_verbosely(orders, sales, args.workload, console, catch_up)
    except DemoError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    if worker is not None:
        print(f"Stopped Sales' worker (process {worker.pid}) with SIGTERM: exit 0.")
    if not args.quiet:
        print(
            "\nRun it again to see the state rebuilt from the stored events;\n--quiet "
            f"prints a summary only, and --reset deletes {DATA_DIR}/ first."
        )
    return 0


@contextmanager
def deployed(
    env: Mapping[str, str] | None, *, follower_process: bool
) -> Iterator[tuple[Orders, Sales, SalesWorker | None]]:
    """Orders and Sales, running here, or Sales in a worker process (which is
    then yielded too)."""
    if follower_process:
        with running_in_worker(env) as (orders, sales, worker):
            yield orders, sales, worker
    else:
        with running(env) as (orders, sales):
            yield orders, sales, None


def say_where(worker: SalesWorker, quiet: bool) -> None:
    if quiet:
        print(f"Worker: Sales runs in process {worker.pid}, Orders in this one.")
        return
    print(
        f"Sales runs in worker process {worker.pid}, which holds its partition "
        f"({worker.identity}),\nstarted as: python {' '.join(COMMAND)}\nOrders "
        f"runs in this process ({os.getpid()}), which reads Sales' figures from "
        "its database."
    )


def run_verbosely(
    orders: Orders,
    sales: Sales,
    workload: int | None,
    console: Console | None,
    catch_up: Callable[[], float] | None,
) -> None:
    print()
    if orders.recorder.max_notification_id():
        show_rebuilt_state(orders, sales, OrdersHistory.read(orders))
    else:
        print("No stored events yet: starting fresh.")
    if workload:
        heading(f"Workload: {workload} orders")
        planned = plan_orders(workload)
        total = sum(order.commands for order in planned)
        with progress(total, "commands", console) as done:
            result = run_workload(orders, sales, planned, done, catch_up)
        show_throughput(result)
    else:
        orders_before = orders.recorder.max_notification_id()
        sales_before = sales.recorder.max_notification_id()
        run_commands(orders)
        if catch_up is not None:
            catch_up()
        show_events(orders, orders_before)
        show_events(sales, sales_before)
        show_log(orders)
    show_derived(orders, sales)


def run_quietly(
    orders: Orders,
    sales: Sales,
    workload: int | None,
    storage: str,
    catch_up: Callable[[], float] | None,
) -> None:
    if workload:
        result = run_workload(
            orders, sales, plan_orders(workload), lambda: None, catch_up
        )
        print(
            f"Workload: {result.orders} orders, {result.commands} commands in "
            f"{result.seconds:.2f} s, {result.commands / result.seconds:,.0f} "
            "commands/s"
        )
        if result.catch_up is not None:
            print(f"Worker: {follower_throughput(result)}")
    else:
        run_commands(orders, say=lambda _: None)
        if catch_up is not None:
            catch_up()
    show_summary(orders, sales, storage)


if __name__ == "__main__":
    sys.exit(main())
