"""The benchmark script still runs: a smoke pass (tiny numbers, once) over POPO
and SQLite prints every figure (no timing is asserted; the numbers are for people
to read)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = [
    "put x1",
    "put x10",
    "insert x1",
    "insert x10",
    "get 1000",
    "select 1000",
    "notifications",
    "save agg (app)",
    "save agg (store)",
    "get 1000 (app)",
    "get snapshot (app)",
    "log sections (app)",
    "log sections (rec)",
    "leader alone",
    "single-threaded",
    "multi-threaded",
    "http prompted",
    "http catch-up",
    "put x1 checksum",
    "put x1 plain (9.1)",
    "get 1000 aes bound",
    "get 1000 aes (9.1)",
    "put x1 FULL",
    "put x1 NORMAL",
    "catch-up",
    "catch-up raw",
    "wait p50 (us)",
    "wait p99 (us)",
]


def test_smoke_bench_prints_every_figure_for_popo_and_sqlite() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench.py"),
            "--smoke",
            "--backend",
            "popo",
            "--backend",
            "sqlite",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "not measured" not in result.stdout, result.stdout
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.strip().startswith("events/s"))
    assert header.split()[1:5] == ["popo", "sqlite:memory", "sqlite:file", "raw:memory"]
    for figure in FIGURES:
        line = next((x for x in lines if x.strip().startswith(figure + " ")), None)
        assert line is not None, f"no {figure!r} line in:\n{result.stdout}"
        assert any(c.isdigit() for c in line[len(figure) + 2 :]), line
    for ratio in (
        "POPO speed-up",
        "Library cost / raw floor",
        "overhead",
        "ceiling",
        "Cost of the new format",
        "NORMAL / FULL",
        "sqlite:file catch-up / raw",
    ):
        assert ratio in result.stdout


def test_every_instruction_count_operation_runs() -> None:
    # What valgrind counts: each operation, run as the instruction script runs it
    # (without valgrind, which only counts).
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import instructions

    for op in instructions.OPS:
        result = subprocess.run(
            [sys.executable, "instructions.py", "--child", op, "20"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT / "benchmarks",
            check=False,
        )
        assert result.returncode == 0, (op, result.stderr)
    assert {new for new, _ in instructions.PAIRS} <= set(instructions.OPS)


def test_the_instruction_script_refuses_what_it_cannot_do() -> None:
    script = str(ROOT / "benchmarks" / "instructions.py")
    for args, message in (
        (["nonsense"], "unknown operations ['nonsense']"),
        (["--against", str(ROOT)], "--against needs --python"),
    ):
        result = subprocess.run(
            [sys.executable, script, *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2
        assert message in result.stderr + result.stdout
