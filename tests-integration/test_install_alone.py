"""Each distribution works installed alone, with only its declared dependencies.

For every distribution: build its wheel and those of the siblings it depends on,
install exactly those into a fresh virtual environment, check that no other
``eventsourcing-*`` distribution came along, and run its smoke example there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SMOKE = Path(__file__).resolve().parent / "smoke"
sys.path.insert(0, str(ROOT / "scripts"))
from build import build  # noqa: E402

# The packages, and the example third-party backend, which must install alone too.
FOLDERS = {
    p.parent.name: p.parent
    for p in [*ROOT.glob("packages/*/src"), *ROOT.glob("examples/eventsourcing-*/src")]
}
DISTRIBUTIONS = sorted(FOLDERS)


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
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("wheels")
    for name in DISTRIBUTIONS:
        build(FOLDERS[name], out, targets=("wheel",))
    return {
        name: next(out.glob(name.replace("-", "_") + "-*.whl"))
        for name in DISTRIBUTIONS
    }


def test_every_distribution_has_a_smoke_example() -> None:
    assert sorted(p.stem for p in SMOKE.glob("*.py")) == DISTRIBUTIONS


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_installed_alone_runs_its_smoke_example(
    name: str, wheels: dict[str, Path], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    venv = tmp_path / "venv"
    uv = [sys.executable, "-m", "uv"]
    subprocess.run(
        [*uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True
    )
    python = venv / "bin" / "python"
    closure = sibling_closure(name)
    subprocess.run(
        [
            *uv,
            "pip",
            "install",
            "-q",
            "--python",
            str(python),
            *(str(wheels[d]) for d in closure),
        ],
        check=True,
    )
    listed = subprocess.run(
        [*uv, "pip", "list", "--python", str(python), "--format", "freeze"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    installed = sorted(
        line.split("==")[0]
        for line in listed.splitlines()
        if line.startswith("eventsourcing")
    )
    assert installed == sorted(closure)

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
