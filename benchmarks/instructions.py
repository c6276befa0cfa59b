"""Print CPU instructions per operation on the hot paths, counted by valgrind:
figures that a shared machine's noise does not move, for comparing formats, and
commits, when timings swing by tens of percent between runs.

Usage: ``hatch run instructions [--against DIR --python PYTHON] [OP ...]`` (or
``python benchmarks/instructions.py``). Needs ``valgrind``. Each operation runs at
two counts in a fresh interpreter under ``valgrind --tool=cachegrind``; the
difference, divided by the difference in counts, is the cost of one operation,
without the interpreter's start. With ``--against``, the same operations also run
in another checkout (its ``benchmarks`` folder, with its own interpreter: for
example a worktree of an older commit and its hatch environment), and the ratio
is printed. Operations (all POPO, in memory, through the library's public API):

read, write: one event through the mapper (``to_domain_event``,
``from_domain_event``), with the checksum; read-9.1 and write-9.1: the same in
eventsourcing 9.1's format (no checksum); aes-read, aes-write (bound
ciphertexts), aes-read-9.1, aes-write-9.1; get: one event of ``EventStore.get()``
of a 100-event sequence; put: ``EventStore.put()`` of one event (made
beforehand); save: one ``app.save()`` of an aggregate, new or credited just before
(the credit is counted), and save-9.1 in 9.1's formats.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OPS = (
    "read",
    "read-9.1",
    "write",
    "write-9.1",
    "aes-read",
    "aes-read-9.1",
    "aes-write",
    "aes-write-9.1",
    "get",
    "put",
    "save",
    "save-9.1",
)
# (new, old) pairs whose cost is printed as a ratio.
PAIRS = (
    ("read", "read-9.1"),
    ("write", "write-9.1"),
    ("aes-read", "aes-read-9.1"),
    ("aes-write", "aes-write-9.1"),
    ("save", "save-9.1"),
)
COUNTS = (200, 2200)  # iterations of the two runs whose difference is measured
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def child(op: str, count: int) -> None:
    """Run ``op`` ``count`` times (with its setup, which both runs share)."""
    sys.path.insert(0, str(Path.cwd()))
    from bench_common import Account, make_events
    from bench_persistence import make_mapper

    from eventsourcing.persistence import EventStore
    from eventsourcing.popo import POPOApplicationRecorder

    legacy = op.endswith("-9.1")
    mapper: Any = make_mapper()
    if op.startswith("aes-"):
        from eventsourcing.cipher import AESCipher

        mapper.cipher = AESCipher(AESCipher.create_key(32))
    # A checkout from before the formats of 9.1.0 has no legacy_format.
    formats = hasattr(mapper, "legacy_format")
    if formats:
        mapper.legacy_format = legacy
    kind = op.removeprefix("aes-").removesuffix("-9.1")
    event = make_events(2)[1]
    work: Callable[[], object]
    if kind == "read":
        stored = mapper.from_domain_event(event)
        work = lambda: mapper.to_domain_event(stored)  # noqa: E731
    elif kind == "write":
        work = lambda: mapper.from_domain_event(event)  # noqa: E731
    elif kind == "get":
        store = EventStore(mapper, POPOApplicationRecorder())
        events = make_events(100)
        store.put(events)
        originator_id = events[0].originator_id
        count //= 100  # a get reads 100 events
        work = lambda: list(store.get(originator_id))  # noqa: E731
    elif kind == "put":
        store = EventStore(mapper, POPOApplicationRecorder())
        # As many events in both runs, so that making them cancels out.
        pending = iter(make_events(COUNTS[-1] + 1))
        work = lambda: store.put([next(pending)])  # noqa: E731
    else:
        from bench_application import make_app

        app = make_app({"PERSISTENCE_MODULE": "popo"})
        if formats:
            app.mapper.legacy_format = legacy
        accounts = [Account.create() for _ in range(COUNTS[-1] // 10 + 1)]
        changes = iter([a for a in accounts for _ in range(10)])
        seen: set[int] = set()

        def work() -> None:
            account = next(changes)
            if id(account) in seen:
                account.credit(1)
            seen.add(id(account))
            app.save(account)

    for _ in range(count):
        work()


def instructions(python: str, folder: Path, op: str, count: int) -> int:
    """Instructions of a fresh interpreter running ``op`` ``count`` times."""
    result = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            python,
            str(Path(__file__).resolve()),
            "--child",
            op,
            str(count),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    found = _REFS.search(result.stderr)
    if result.returncode != 0 or found is None:
        msg = f"{op} failed under valgrind in {folder}:\n{result.stderr[-2000:]}"
        raise RuntimeError(msg)
    return int(found.group(1).replace(",", ""))


def per_op(python: str, folder: Path, op: str) -> float:
    low, high = (instructions(python, folder, op, n) for n in COUNTS)
    return (high - low) / (COUNTS[1] - COUNTS[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ops", nargs="*", metavar="OP", help=", ".join(OPS))
    parser.add_argument("--against", type=Path, help="another checkout to compare")
    parser.add_argument("--python", help="the interpreter of --against's checkout")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]))
        return 0
    if args.against and not args.python:
        parser.error("--against needs --python, the interpreter of that checkout")
    unknown = sorted(set(args.ops) - set(OPS))
    if unknown:
        parser.error(f"unknown operations {unknown}: choose from {', '.join(OPS)}")
    if shutil.which("valgrind") is None:
        print("instructions: valgrind is not installed (apt install valgrind)")
        return 2
    ops = args.ops or list(OPS)
    here = {op: per_op(sys.executable, HERE, op) for op in ops}
    there: dict[str, float] = {}
    if args.against:
        folder = args.against.resolve() / "benchmarks"
        there = {op: per_op(args.python, folder, op) for op in ops}
    print("Instructions per operation (valgrind)")
    print(
        f"  {'operation':16}{'here':>12}"
        + (f"{'against':>12}{'ratio':>8}" if there else "")
    )
    for op in ops:
        line = f"  {op:16}{here[op]:>12,.0f}"
        if there:
            line += f"{there[op]:>12,.0f}{here[op] / there[op]:>8.3f}"
        print(line)
    pairs = [(new, old) for new, old in PAIRS if new in here and old in here]
    if pairs:
        print("Cost of the new format over 9.1's (here)")
        for new, old in pairs:
            print(f"  {new:16}{(here[new] / here[old] - 1) * 100:>+11.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
