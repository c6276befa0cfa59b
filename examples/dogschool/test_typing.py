"""``mypy --strict`` finds no error in the typed example, run as a user would run
it (no configuration but ``strict``), and finds the one error that the
documented declarations of ``@event`` events prevent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

UNDECLARED = """
from typing import ClassVar

from eventsourcing.domain import Aggregate, event


class Cat(Aggregate):
    def __init__(self, name: str) -> None:
        self.name = name

    @event("Purred")
    def purr(self) -> None:
        pass


class DeclaredCat(Aggregate):
    Purred: ClassVar[type[Aggregate.Event]]

    def __init__(self, name: str) -> None:
        self.name = name

    @event("Purred")
    def purr(self) -> None:
        pass


undeclared = Cat.Purred
declared: type[Aggregate.Event] = DeclaredCat.Purred
"""


def test_mypy_strict_finds_no_error_in_the_typed_example(tmp_path: Path) -> None:
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\n")
    cats = tmp_path / "cats.py"
    cats.write_text(UNDECLARED)
    result = subprocess.run(
        [
            *(sys.executable, "-m", "mypy", "--config-file", str(config)),
            *("--cache-dir", str(tmp_path / "cache")),
            *("examples/dogschool", str(cats)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    # The one error: an event made by @event("Purred") and not declared.
    line = UNDECLARED.splitlines().index("undeclared = Cat.Purred") + 1
    assert result.stdout.splitlines() == [
        f'{cats}:{line}: error: "type[Cat]" has no attribute "Purred"  [attr-defined]',
        "Found 1 error in 1 file (checked 6 source files)",
    ], result.stdout + result.stderr
