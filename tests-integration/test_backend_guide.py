"""The backend author's page (docs/backends.md) works when followed literally.

Each file the page shows ("In `eventsourcing-memo/...`:" and the block after it)
is written to a folder of its own; each command of its last step runs as hatch
would run it, in a fresh environment made like hatch's default one
(scripts/envs.py), with ``path/to/eventsourcing-memo`` standing for that folder.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "backends.md"
sys.path.insert(0, str(ROOT / "scripts"))
import envs  # noqa: E402

FILE = re.compile(
    r"^In `eventsourcing-memo/([^`]+)`:\n\n```\w+\n(.*?)^```$", re.M | re.S
)
HATCH_RUN = "python3 -m hatch run "
PLACEHOLDER = "path/to/eventsourcing-memo"


def documented_files() -> dict[str, str]:
    return dict(FILE.findall(PAGE.read_text()))


def documented_commands() -> list[str]:
    last_step = PAGE.read_text().split("## 6. Run the integration suite", 1)[1]
    return [line for line in last_step.splitlines() if line.startswith(HATCH_RUN)]


def test_the_page_shows_a_whole_distribution_and_the_commands_to_test_it() -> None:
    assert sorted(documented_files()) == [
        "pyproject.toml",
        "src/eventsourcing_memo/__init__.py",
        "src/eventsourcing_memo/testing.py",
    ]
    assert documented_commands() == [
        f"{HATCH_RUN}python -m uv pip install -e {PLACEHOLDER}",
        f"{HATCH_RUN}integration memo",
    ]


def as_hatch_runs(command: str) -> list[str]:
    """What ``hatch run`` executes for ``command``: a script of hatch.toml with its
    arguments in place of ``{args}``, or the command itself."""
    name, _, args = command.removeprefix(HATCH_RUN).partition(" ")
    scripts = tomllib.loads((ROOT / "hatch.toml").read_text())["envs"]["default"][
        "scripts"
    ]
    script = scripts.get(name)
    line = script.replace("{args}", args) if script else f"{name} {args}"
    return shlex.split(line)


def test_following_the_page_installs_the_backend_and_passes_the_suite(
    tmp_path: Path,
) -> None:
    memo = tmp_path / "eventsourcing-memo"
    for name, text in documented_files().items():
        (memo / name).parent.mkdir(parents=True, exist_ok=True)
        (memo / name).write_text(text)
    python = envs.ensure_environment(Path(sys.executable), tmp_path / "hatch-env")
    # As hatch runs a command: the environment activated, in the project's root.
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTHON", "COV_", "COVERAGE", "EVENTSOURCING_"))
        },
        "VIRTUAL_ENV": str(python.parent.parent),
        "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}",
        # The suite's own temporary folders, apart from this run's.
        "PYTEST_ADDOPTS": f"--basetemp={tmp_path / 'pytest'}",
        # One worker: this test runs beside the others of the outer run.
        "EVENTSOURCING_TEST_WORKERS": "1",
    }
    outputs = []
    for command in documented_commands():
        argv = [a.replace(PLACEHOLDER, str(memo)) for a in as_hatch_runs(command)]
        result = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        outputs.append(result.stdout)
    # The suite ran, on memo alone (it refuses a backend that is not installed).
    summary = outputs[-1].strip().splitlines()[-1]
    assert re.search(r"\b\d{2,} passed\b", summary), summary
