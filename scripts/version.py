"""Keep every distribution on the one version written in ``VERSION``.

``python scripts/version.py check`` fails when a ``pyproject.toml`` version or a
pin on a sibling distribution differs from ``VERSION``; ``python
scripts/version.py bump 9.2.0`` rewrites all of them together.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSION_FILE = ROOT / "VERSION"
SIBLING_PIN = re.compile(r'"(eventsourcing-[a-z0-9-]+)\s*==\s*([^"\s]+)"')
VERSION_LINE = re.compile(r'^version = "([^"]+)"$', re.MULTILINE)


def pyprojects(root: Path = ROOT) -> list[Path]:
    """Every distribution's pyproject.toml: the packages and example backends."""
    found = sorted(root.glob("packages/*/pyproject.toml"))
    found += sorted(root.glob("examples/*/pyproject.toml"))
    return found


def read_version(root: Path = ROOT) -> str:
    return (root / VERSION_FILE.name).read_text().strip()


def drift(expected: str, root: Path = ROOT) -> list[str]:
    """Describe every place where a version or sibling pin is not ``expected``."""
    problems = []
    for path in pyprojects(root):
        rel = path.relative_to(root)
        project = tomllib.loads(path.read_text())["project"]
        if project.get("version") != expected:
            problems.append(
                f"{rel}: version {project.get('version')!r} != {expected!r}"
            )
        for dep in project.get("dependencies", []):
            if dep.startswith("eventsourcing-"):
                match = SIBLING_PIN.fullmatch(f'"{dep}"')
                if match is None or match.group(2) != expected:
                    problems.append(
                        f"{rel}: dependency {dep!r} must pin exactly == {expected}"
                    )
    return problems


def bump(new: str, root: Path = ROOT) -> None:
    """Rewrite ``VERSION``, every distribution's version and every sibling pin."""
    if not re.fullmatch(r"\d+\.\d+\.\d+([ab]|rc)?\d*", new):
        raise SystemExit(f"Not a release version: {new!r} (expected e.g. 9.2.0)")
    for path in pyprojects(root):
        text = VERSION_LINE.sub(f'version = "{new}"', path.read_text(), count=1)
        text = SIBLING_PIN.sub(lambda m: f'"{m.group(1)} == {new}"', text)
        path.write_text(text)
    (root / VERSION_FILE.name).write_text(new + "\n")


def main(argv: list[str]) -> int:
    if argv[:1] == ["check"] and len(argv) == 1:
        problems = drift(read_version())
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("Run: python scripts/version.py bump X.Y.Z", file=sys.stderr)
            return 1
        print(f"All {len(pyprojects())} distributions are at {read_version()}.")
        return 0
    if argv[:1] == ["bump"] and len(argv) == 2:
        bump(argv[1])
        print(f"Bumped {len(pyprojects())} distributions to {argv[1]}.")
        return 0
    print("usage: version.py check | version.py bump X.Y.Z", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
