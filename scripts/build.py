"""Build every distribution's wheel and sdist into ``dist/`` (or a given folder)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(
    project: Path, out: Path, targets: tuple[str, ...] = ("wheel", "sdist")
) -> None:
    """Build one distribution with hatchling, without build isolation."""
    for target in targets:
        subprocess.run(
            [sys.executable, "-m", "hatchling", "build", "-t", target, "-d", str(out)],
            cwd=project,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def main(argv: list[str]) -> int:
    out = Path(argv[0]).resolve() if argv else ROOT / "dist"
    projects = sorted(ROOT.glob("packages/*/pyproject.toml"))
    projects += sorted(ROOT.glob("examples/eventsourcing-*/pyproject.toml"))
    for pyproject in projects:
        build(pyproject.parent, out)
        print(f"built {pyproject.parent.name}")
    print(f"{len(projects)} distributions in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
