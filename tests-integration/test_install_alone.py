"""Each distribution works installed alone, with only its declared dependencies.

For every distribution: take its wheel and those of the siblings it depends on
from the wheelhouse (``hatch run build``), install exactly those into a fresh
virtual environment (with the extras the distribution needs: PostgreSQL's driver),
check that no other ``eventsourcing-*`` distribution came along, and run its
smoke example there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SMOKE = Path(__file__).resolve().parent / "smoke"

# The packages, and the example third-party backend, which must install alone too.
FOLDERS = {
    p.parent.name: p.parent
    for p in [*ROOT.glob("packages/*/src"), *ROOT.glob("examples/eventsourcing-*/src")]
}
DISTRIBUTIONS = sorted(FOLDERS)
# The extras a distribution needs to work: the PostgreSQL driver is one.
EXTRAS = {"eventsourcing-postgres": "[binary]"}


def sibling_closure(name: str) -> list[str]:
    """The distribution and every sibling it depends on, directly or not."""
    project = tomllib.loads((FOLDERS[name] / "pyproject.toml").read_text())
    found = [name]
    for dep in project["project"].get("dependencies", []):
        sibling = dep.split("==")[0].strip()
        if sibling.startswith("eventsourcing-"):
            found += [d for d in sibling_closure(sibling) if d not in found]
    return found


@pytest.fixture(scope="session")
def wheels(wheelhouse: Path) -> dict[str, Path]:
    return {
        name: next(wheelhouse.glob(name.replace("-", "_") + "-*.whl"))
        for name in DISTRIBUTIONS
    }


def fresh_venv(path: Path) -> Path:
    """A new virtual environment; its Python."""
    subprocess.run(
        [sys.executable, "-m", "uv", "venv", "-q", "--python", sys.executable, path],
        check=True,
    )
    return path / "bin" / "python"


def uv_pip_install(python: Path, *requirements: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "uv",
            "pip",
            "install",
            "-q",
            "--python",
            python,
            *requirements,
        ],
        check=True,
    )


def installed_eventsourcing(python: Path) -> list[str]:
    listed = subprocess.run(
        [sys.executable, "-m", "uv", "pip", "list", "--python", python],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return sorted(
        line.split()[0]
        for line in listed.splitlines()
        if line.startswith("eventsourcing")
    )


def requirement(name: str, wheel: Path) -> str:
    """A requirement that installs ``name`` from ``wheel``, with its extras."""
    return f"{name}{EXTRAS.get(name, '')} @ {wheel.as_uri()}"


def test_every_distribution_has_a_smoke_example() -> None:
    assert sorted(p.stem for p in SMOKE.glob("*.py")) == DISTRIBUTIONS


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_installed_alone_runs_its_smoke_example(
    name: str, wheels: dict[str, Path], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    python = fresh_venv(tmp_path / "venv")
    closure = sibling_closure(name)
    uv_pip_install(python, *(requirement(d, wheels[d]) for d in closure))
    assert installed_eventsourcing(python) == sorted(closure)

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "COV_", "COVERAGE"))
    }
    if name == "eventsourcing-postgres":
        env.update(request.getfixturevalue("postgres_env"))
    result = subprocess.run(
        [str(python), str(SMOKE / f"{name}.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok"), result.stdout


def test_the_postgres_wheel_leaves_the_driver_to_one_of_two_extras(
    wheels: dict[str, Path],
) -> None:
    with zipfile.ZipFile(wheels["eventsourcing-postgres"]) as wheel:
        (metadata,) = [n for n in wheel.namelist() if n.endswith("/METADATA")]
        lines = wheel.read(metadata).decode().splitlines()
    requires = [line for line in lines if line.startswith("Requires-Dist:")]
    pin = version("eventsourcing-postgres")
    assert requires == [
        f"Requires-Dist: eventsourcing-persistence=={pin}",
        "Requires-Dist: psycopg2-binary>=2.9; extra == 'binary'",
        "Requires-Dist: psycopg2>=2.9; extra == 'source'",
    ]


def test_postgres_installed_without_an_extra_says_which_to_install(
    wheels: dict[str, Path], tmp_path: Path
) -> None:
    python = fresh_venv(tmp_path / "venv")
    closure = sibling_closure("eventsourcing-postgres")
    uv_pip_install(python, *(str(wheels[d]) for d in closure))
    result = subprocess.run(
        [python, "-c", "import eventsourcing.postgres"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    last = result.stderr.splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: eventsourcing.postgres needs the")
    assert "'eventsourcing-postgres[binary]'" in last
    assert "'eventsourcing-postgres[source]'" in last
