"""The demo, run as the README runs it in a fresh folder: twice, to see the state
rebuilt; with a workload, piped and on a terminal; quietly; and reset."""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from eventsourcing.persistence import EventStore

from .__main__ import configure, main
from .application import SNAPSHOT_INTERVAL, Orders, Sales, running
from .progress import PlainProgress, progress
from .report import money, show_events
from .worker import SalesWorker, WorkerFailed
from .workload import plan_orders, send

ROOT = Path(__file__).resolve().parent.parent.parent
PROGRESS_LINE = re.compile(
    r"  \d+/\d+ commands \(\d+%\), [\d,]+/s, (ETA \d+s|done in [\d.]+s)"
)


@pytest.fixture
def demo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh folder to run the demo in, with no backend set by the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INFRASTRUCTURE_FACTORY", raising=False)
    monkeypatch.delenv("PERSISTENCE_MODULE", raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


def demo_environ(**settings: str) -> dict[str, str]:
    """This environment without the settings that would choose another backend
    or configure the applications, with ``settings`` added."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("INFRASTRUCTURE_FACTORY", "PERSISTENCE_MODULE")
        # These make rich treat any output as a terminal.
        and k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")
        and not k.startswith(
            ("SQLITE_", "POSTGRES_", "CIPHER_", "COMPRESSOR_", "WORKER_")
        )
        and not k.startswith(("ORDERS_", "SALES_"))
    }
    environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [environ.get("PYTHONPATH")])]
    )
    return {**environ, **settings}


def run_demo(
    cwd: Path, *args: str, **settings: str
) -> subprocess.CompletedProcess[str]:
    """Runs ``python -m examples.demo`` with its output piped, as in a CI log."""
    return subprocess.run(
        [sys.executable, "-m", "examples.demo", *args],
        cwd=cwd,
        env=demo_environ(**settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_first_run_explains_then_second_run_rebuilds_from_stored_events(
    demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run(capsys)
    assert "Sales is a process application in a System" in out
    assert f"Sales snapshots its totals every {SNAPSHOT_INTERVAL} events" in out
    assert (
        "Storage: SQLite files .demo-data/orders.sqlite and .demo-data/sales.sqlite\n"
        "(One file per application; set INFRASTRUCTURE_FACTORY to use another "
        "backend.)"
    ) in out
    assert "No stored events yet: starting fresh." in out
    assert "> create_order('Ada')" in out
    assert "rejected: Order" in out
    assert "Order.Placed" in out
    assert "total_cents=975" in out
    assert "CustomerSales.OrderCounted" in out
    assert "section 1,9 " in out
    assert "revenue:    17.75" in out
    assert "notifications 1 to 9 (of 9), each exactly once" in out
    assert (demo_dir / ".demo-data" / "orders.sqlite").is_file()
    assert (demo_dir / ".demo-data" / "sales.sqlite").is_file()

    out = run(capsys)
    assert "Found 9 stored events of Orders and 7 of Sales" in out
    assert "rebuilt from 4 events (version 4)" in out
    assert "Sales has processed Orders' notifications up to #9." in out
    assert "No stored events yet" not in out
    assert "section 11,18" in out
    assert "revenue:    35.50" in out
    assert "notifications 1 to 18 (of 18), each exactly once" in out


def count_reads(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the events (or snapshots) read from the store, in a one-item list."""
    reads = [0]
    original = store.get

    def get(*args: Any, **kwargs: Any) -> Iterator[Any]:
        events = list(original(*args, **kwargs))
        reads[0] += len(events)
        return iter(events)

    monkeypatch.setattr(store, "get", get)
    return reads


def test_each_order_reads_no_more_stored_events_however_many_came_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with running({"INFRASTRUCTURE_FACTORY": "popo"}) as (orders, sales):
        stores = [orders.events, sales.events, sales.snapshots]
        counters = [count_reads(store, monkeypatch) for store in stores if store]
        reads_per_order = []
        for order in plan_orders(200, seed=1):
            before = sum(reads for (reads,) in counters)
            send(orders, order, done=lambda: None)
            reads_per_order.append(sum(reads for (reads,) in counters) - before)
        totals = sales.totals()

    assert totals is not None
    assert totals.version > 12 * SNAPSHOT_INTERVAL
    # For each of its two aggregates Sales reads a snapshot and fewer than
    # SNAPSHOT_INTERVAL events after it; Orders replays the order for each
    # command after the first, 1 + 2 + 3 + 4 events at most. Without snapshots
    # the last orders would each read an event of every earlier placed order.
    assert max(reads_per_order) <= 2 * SNAPSHOT_INTERVAL + 10


def test_piped_workload_prints_a_plain_progress_line_each_tenth(
    tmp_path: Path,
) -> None:
    result = run_demo(tmp_path, "--workload", "20")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\r" not in out
    assert "\x1b" not in out
    lines = [line for line in out.splitlines() if PROGRESS_LINE.fullmatch(line)]
    assert len(lines) == 10
    assert "(10%)" in lines[0]
    assert re.fullmatch(r"  (\d+)/\1 commands \(100%\), .*done in .*", lines[-1])
    assert "Workload: 20 orders" in out
    assert "orders/s" in out
    assert "events/s" in out
    assert "Sales has processed Orders' notifications 1 to" in out


def test_plain_progress_states_count_percent_rate_and_eta() -> None:
    lines: list[str] = []
    now = [0.0]
    plain = PlainProgress(20000, "commands", write=lines.append, clock=lambda: now[0])
    for _ in range(4000):
        now[0] += 1 / 1000
        plain.advance()
    assert lines == [
        "  2000/20000 commands (10%), 1,000/s, ETA 18s",
        "  4000/20000 commands (20%), 1,000/s, ETA 16s",
    ]


def test_plain_progress_of_a_few_commands_writes_each_line_once() -> None:
    lines: list[str] = []
    plain = PlainProgress(3, "commands", write=lines.append, clock=lambda: 1.0)
    for _ in range(3):
        plain.advance()
    assert [line.split(",")[0] for line in lines] == [
        "  1/3 commands (33%)",
        "  2/3 commands (66%)",
        "  3/3 commands (100%)",
    ]


def test_terminal_progress_shows_count_rate_and_eta() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, color_system=None, width=100)
    with progress(20, "commands", console) as done:
        for _ in range(20):
            done()
    drawn = screen.getvalue()
    assert "20/20 commands" in drawn
    assert re.search(r"[\d,]+ commands/s", drawn)
    assert "ETA 0:00:00" in drawn


def test_quiet_prints_a_short_summary(
    demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "--workload", "50")
    planned = plan_orders(50)
    # The quiet run sends the scripted commands too: 3 orders, 9 events, 2 placed.
    events = sum(order.commands for order in planned) + 9
    placed = sum(order.placed for order in planned) + 2
    revenue = sum(
        sum(quantity * cents for _, quantity, cents in order.items)
        for order in planned
        if order.placed
    )

    out = run(capsys, "--quiet")
    orders_line, sales_line, data_line = out.splitlines()
    assert orders_line == f"Orders: 53 orders, {events} events"
    assert sales_line.startswith(
        f"Sales:  {placed} placed, revenue {money(revenue + 1775)}; "
    )
    assert sales_line.endswith(f" events, processed Orders up to #{events}")
    assert data_line == (
        "Data:   SQLite files .demo-data/orders.sqlite and .demo-data/sales.sqlite"
    )

    out = run(capsys, "--quiet", "--workload", "10")
    commands = sum(order.commands for order in plan_orders(10))
    assert len(out.splitlines()) == 4
    assert out.startswith(f"Workload: 10 orders, {commands} commands in ")


def test_rerun_after_a_workload_shows_the_first_and_last_of_the_log(
    demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "--workload", "100")
    stored = sum(order.commands for order in plan_orders(100))  # an event each
    last = stored + 9  # and the rerun's scripted commands
    tail_start = (last - 1) // 10 * 10 - 9  # the sections of the last 20 or fewer

    out = run(capsys)
    assert len(out.splitlines()) < 90
    assert f"Found {stored} stored events of Orders" in out
    assert "... and 92 earlier orders" in out
    assert "section 21,30 " in out
    assert f"... notifications #31 to #{tail_start - 1} not shown ..." in out
    assert f"section {tail_start},{tail_start + 9} " in out
    assert f"section {tail_start + 10},{last} " in out
    assert f"notifications 1 to {last} (of {last}), each exactly once" in out


def test_events_of_a_long_run_show_the_first_and_last_ten(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with running({"INFRASTRUCTURE_FACTORY": "popo"}) as (orders, _):
        for order in plan_orders(30, seed=1):
            send(orders, order, done=lambda: None)
        capsys.readouterr()
        show_events(orders, after=5)
    shown = [line.split()[0] for line in capsys.readouterr().out.splitlines()[3:]]
    last = orders.recorder.max_notification_id()
    assert shown == [
        *(f"#{i}" for i in range(6, 16)),
        "...",
        *(f"#{i}" for i in range(last - 9, last + 1)),
    ]


def test_reset_deletes_the_data_folder_then_starts_afresh(
    demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys)

    out = run(capsys, "--reset")
    assert out.startswith("Deleted .demo-data/.\n")
    assert "No stored events yet: starting fresh." in out
    assert "notifications 1 to 9 (of 9)" in out

    out = run(capsys, "--reset", "--quiet")
    assert out.startswith("Deleted .demo-data/.\nOrders: 3 orders, 9 events\n")


def test_reset_without_a_data_folder_says_there_is_nothing_to_delete(
    demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run(capsys, "--reset", "--quiet")
    assert out.startswith("Nothing to delete: there is no .demo-data/ here.\n")


def test_demo_uses_the_environment_when_a_backend_is_set(
    demo_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INFRASTRUCTURE_FACTORY", "popo")
    out = run(capsys, "--reset")
    assert "The backend configured by the environment keeps its data." in out
    assert "backend 'popo', configured by the environment" in out
    assert "set INFRASTRUCTURE_FACTORY" not in out
    assert "No stored events yet" in out
    assert not (demo_dir / ".demo-data").exists()


def test_demo_refuses_an_empty_workload(
    demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--workload", "0"])
    assert exit_info.value.code == 2
    assert "--workload must be at least 1, not 0" in capsys.readouterr().err


# Sales in a worker process of its own.

WORKER_STARTED = re.compile(r"Sales runs in (?:worker )?process (\d+)")


def worker_pid(out: str) -> int:
    found = WORKER_STARTED.search(out)
    assert found, out
    return int(found[1])


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_follower_process_runs_sales_in_a_worker_stopped_at_the_end(
    tmp_path: Path,
) -> None:
    result = run_demo(tmp_path, "--follower-process")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "run by a worker in a process\nof its own" in out
    pid = worker_pid(out)
    assert f"which holds its partition ({socket.gethostname()}:{pid})" in out
    assert (
        "started as: python -m eventsourcing.system run "
        "examples.demo.application:make_system --app Sales\n"
        "Orders runs in this process ("
    ) in out
    # What the worker derived, read by the demo from Sales' database.
    assert "CustomerSales.OrderCounted" in out
    assert "revenue:    17.75" in out
    assert "notifications 1 to 9 (of 9), each exactly once" in out
    assert f"Stopped Sales' worker (process {pid}) with SIGTERM: exit 0." in out
    assert not is_running(pid)

    # The same files, run in one process again.
    out = run_demo(tmp_path).stdout
    assert "Found 9 stored events of Orders and 7 of Sales" in out
    assert "notifications 1 to 18 (of 18), each exactly once" in out


def test_follower_process_derives_what_sales_derives_in_this_process(
    tmp_path: Path,
) -> None:
    (tmp_path / "worker").mkdir()
    (tmp_path / "here").mkdir()
    result = run_demo(
        tmp_path / "worker", "--follower-process", "--quiet", "--workload", "20"
    )
    assert result.returncode == 0, result.stderr
    started, workload, kept_up, *summary, stopped = result.stdout.splitlines()
    pid = worker_pid(started)
    assert started == f"Worker: Sales runs in process {pid}, Orders in this one."
    commands = sum(order.commands for order in plan_orders(20))
    assert workload.startswith(f"Workload: 20 orders, {commands} commands in ")
    assert re.fullmatch(
        r"Worker: Sales' worker caught up [\d.]+ s after the last command: "
        rf"{commands} notifications processed in [\d.]+ s, [\d,]+/s, and "
        r"\d+ events stored",
        kept_up,
    )
    assert stopped == f"Stopped Sales' worker (process {pid}) with SIGTERM: exit 0."

    here = run_demo(tmp_path / "here", "--quiet", "--workload", "20").stdout
    assert summary == here.splitlines()[1:]


def test_follower_process_workload_shows_the_rate_of_each_process(
    tmp_path: Path,
) -> None:
    result = run_demo(tmp_path, "--follower-process", "--workload", "10")
    assert result.returncode == 0, result.stderr
    commands = sum(order.commands for order in plan_orders(10))
    assert re.search(
        rf"  10 orders, {commands} commands in [\d.]+ s \(Orders, in this "
        r"process\): [\d,]+ orders/s, [\d,]+ commands/s\n"
        r"  Sales' worker caught up [\d.]+ s after the last command: "
        rf"{commands} notifications processed in ",
        result.stdout,
    )
    assert f"notifications 1 to {commands} (of {commands})" in result.stdout


def test_a_worker_that_dies_is_reported_with_what_it_wrote(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "--follower-process", WORKER_POLL_INTERVAL="soon")
    assert result.returncode == 1
    assert re.search(
        r"error: Sales' worker \(process \d+\) exited with status [1-9]\d* before "
        r"it was asked to stop\. The last of what it wrote:\n",
        result.stderr,
    )
    assert "WORKER_POLL_INTERVAL='soon' is not a number of seconds" in result.stderr


def _foreground() -> None:
    """Lets Ctrl-C reach the demo, as it does on a terminal, even when this
    process ignores SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(
    ("signum", "returncode"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)]
)
def test_interrupting_the_demo_stops_its_worker(
    tmp_path: Path, signum: signal.Signals, returncode: int
) -> None:
    command = ["-m", "examples.demo", "--follower-process", "--workload", "5000"]
    demo = subprocess.Popen(
        [sys.executable, *command],
        cwd=tmp_path,
        env=demo_environ(PYTHONUNBUFFERED="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_foreground,
    )
    assert demo.stdout is not None
    lines = []
    with demo:
        for line in demo.stdout:
            lines.append(line)
            if line.startswith("Workload: 5000 orders"):
                break
        pid = worker_pid("".join(lines))
        assert is_running(pid)
        demo.send_signal(signum)  # to the demo alone: it must stop the worker
        _, err = demo.communicate(timeout=60)
    assert demo.returncode == returncode, err
    assert not is_running(pid)
    if signum == signal.SIGINT:
        assert err.endswith("Interrupted.\n")


def test_follower_process_refuses_storage_in_this_process_memory(
    demo_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INFRASTRUCTURE_FACTORY", "popo")
    assert main(["--follower-process", "--quiet"]) == 1
    assert capsys.readouterr().err == (
        "error: --follower-process needs storage that two processes share, but the "
        "environment chooses 'popo', which keeps events in this process's memory: "
        "unset INFRASTRUCTURE_FACTORY (SQLite files) or choose 'sqlite' or "
        "'postgres'.\n"
    )


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_follower_process_refuses_more_than_one_partition(
    demo_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SALES_PARTITIONS", "4")
    assert main(["--follower-process", "--quiet"]) == 1
    assert capsys.readouterr().err == (
        "error: --follower-process runs Sales in one partition, not 4: unset "
        "SALES_PARTITIONS (or PARTITIONS).\n"
    )


@pytest.fixture
def worker_env(demo_dir: Path) -> dict[str, str]:
    env, _ = configure(demo_dir / ".demo-data")
    assert env is not None
    return env


def test_a_worker_that_makes_no_progress_is_given_up_on(
    worker_env: dict[str, str],
) -> None:
    orders, sales = Orders(env=worker_env), Sales(env=worker_env)
    worker = SalesWorker(worker_env, timeout=0.5)
    worker.start()
    try:
        worker.wait_until_ready()
        os.kill(worker.pid, signal.SIGSTOP)
        orders.create_order("Ada")
        with pytest.raises(WorkerFailed) as failed:
            worker.catch_up(orders, sales)
        os.kill(worker.pid, signal.SIGCONT)
    finally:
        assert worker.stop() == 0
        worker.close()
    assert str(failed.value).startswith(
        f"Sales' worker (process {worker.pid}) made no progress for 0.5 s: it has "
        "processed Orders' notifications up to #0 of #1. The last of what it "
        "wrote:\n"
    )


def test_a_worker_that_cannot_take_the_partition_is_given_up_on(
    worker_env: dict[str, str],
) -> None:
    first = SalesWorker(worker_env)
    second = SalesWorker(worker_env, start_timeout=0.5)
    first.start()
    try:
        first.wait_until_ready()
        second.start()
        wait_for(lambda: "runs Sales" in second.output())  # without a partition
        with pytest.raises(WorkerFailed) as failed:
            second.wait_until_ready()
    finally:
        assert [second.stop(), first.stop()] == [0, 0]
        first.close()
        second.close()
    assert str(failed.value).startswith(
        f"Sales' worker (process {second.pid}) did not take Sales' partition within "
        f"0.5 s: it is held by {first.identity}: is another worker of Sales "
        "running? Stop it, or run the demo without --follower-process. The last of "
        "what it wrote:\n"
    )


def test_a_worker_that_exits_badly_when_stopped_is_reported(
    worker_env: dict[str, str],
) -> None:
    worker = SalesWorker(worker_env)
    worker.start()
    try:
        worker.wait_until_ready()
        os.kill(worker.pid, signal.SIGKILL)
        returncode = worker.stop()
        assert returncode == -signal.SIGKILL
        with pytest.raises(WorkerFailed) as failed:
            worker.check_stopped(returncode)
    finally:
        worker.stop()
        worker.close()
    assert str(failed.value).startswith(
        f"Sales' worker (process {worker.pid}) exited with status -9 when stopped "
        "with SIGTERM, not 0. The last of what it wrote:\n"
    )
