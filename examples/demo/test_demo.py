"""The demo, run as the README runs it (``python -m examples.demo``) in a fresh
folder: twice, to see the state rebuilt; with a workload; and reset."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def run_demo(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("INFRASTRUCTURE_FACTORY", "PERSISTENCE_MODULE")
        and not k.startswith(("SQLITE_", "POSTGRES_", "CIPHER_", "COMPRESSOR_"))
    }
    environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [environ.get("PYTHONPATH")])]
    )
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "examples.demo", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_first_run_then_state_rebuilt_on_second(tmp_path: Path) -> None:
    first = run_demo(tmp_path)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "SQLite file .demo-data/demo.sqlite" in out
    assert "No stored events yet: starting fresh." in out
    assert "> create_order('Ada')" in out
    assert "rejected: Order" in out
    assert "Order.Placed" in out
    assert "total_cents=975" in out
    assert "CustomerSales.OrderCounted" in out
    assert "section 1,9 " in out
    assert "revenue:    17.75" in out
    assert "notifications 1 to 9 (of 9), each exactly once" in out
    assert (tmp_path / ".demo-data" / "demo.sqlite").is_file()

    second = run_demo(tmp_path)
    assert second.returncode == 0, second.stderr
    out = second.stdout
    assert "Found 9 stored events of Orders and 7 of Sales" in out
    assert "rebuilt from 4 events (version 4)" in out
    assert "Sales has processed Orders' notifications up to #9." in out
    assert "No stored events yet" not in out
    assert "section 11,18" in out
    assert "revenue:    35.50" in out
    assert "notifications 1 to 18 (of 18), each exactly once" in out


def test_demo_workload_shows_progress_and_throughput(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "--workload", "20")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Workload: 20 orders" in out
    assert "[##############################] 100%  20/20 orders" in out
    assert "orders/s" in out
    assert "events/s" in out
    assert "Sales has processed Orders' notifications 1 to" in out


def test_demo_reset_deletes_the_data_folder(tmp_path: Path) -> None:
    assert run_demo(tmp_path).returncode == 0
    assert (tmp_path / ".demo-data").is_dir()

    reset = run_demo(tmp_path, "--reset")
    assert reset.returncode == 0, reset.stderr
    assert "Deleted .demo-data/." in reset.stdout
    assert not (tmp_path / ".demo-data").exists()

    again = run_demo(tmp_path, "--reset")
    assert "Nothing to delete" in again.stdout


def test_demo_uses_the_environment_when_a_backend_is_set(tmp_path: Path) -> None:
    result = run_demo(tmp_path, INFRASTRUCTURE_FACTORY="popo")
    assert result.returncode == 0, result.stderr
    assert "backend 'popo', configured by the environment" in result.stdout
    assert "No stored events yet" in result.stdout
    assert not (tmp_path / ".demo-data").exists()


def test_demo_refuses_an_empty_workload(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "--workload", "0")
    assert result.returncode == 2
    assert "--workload must be at least 1, not 0" in result.stderr
