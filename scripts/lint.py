"""Lint and type-check the monorepo: ruff check, ruff format --check, mypy --strict.

mypy runs once per distribution (its ``src`` and ``tests`` together), because
every distribution's tests may have a ``conftest.py`` and one mypy run cannot
hold two modules of the same name; then once over the repository-level code.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPO_LEVEL = [
    "conftest.py",
    "scripts",
    "benchmarks",
    "tests-integration/*.py",
    "docs/*.py",
]


def run(cmd: list[str]) -> bool:
    print("+", " ".join(cmd), flush=True)
    return subprocess.call(cmd, cwd=ROOT) == 0


def main() -> int:
    mypy = [sys.executable, "-m", "mypy"]
    checks = [
        run([sys.executable, "-m", "ruff", "check", "."]),
        run([sys.executable, "-m", "ruff", "format", "--check", "."]),
    ]
    projects = sorted(ROOT.glob("packages/*/pyproject.toml"))
    projects += sorted(ROOT.glob("examples/eventsourcing-*/pyproject.toml"))
    for pyproject in projects:
        folder = pyproject.parent.relative_to(ROOT)
        checks.append(run([*mypy, str(folder / "src"), str(folder / "tests")]))
    repo_level = [str(p.relative_to(ROOT)) for g in REPO_LEVEL for p in ROOT.glob(g)]
    checks.append(run([*mypy, *repo_level]))
    # The example applications (the example backends were checked above).
    examples = [
        str(p.parent.relative_to(ROOT)) for p in ROOT.glob("examples/*/__init__.py")
    ]
    checks.append(
        run([*mypy, "examples/__init__.py", "examples/conftest.py", *examples])
    )
    failed = checks.count(False)
    print(f"\n{len(checks) - failed} of {len(checks)} checks passed.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
