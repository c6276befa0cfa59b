"""Installing from a clone works as docs/installation.md says, followed literally.

The wheelhouse is what ``hatch run build`` makes (the script behind it, run once
per test run); each ``pip install --find-links dist ...`` line of the page then runs
as it is, with the pip of a fresh virtual environment, in the folder that holds
``dist/``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "installation.md"
PIP_LINE = re.compile(r"^pip install --find-links dist .+$", re.MULTILINE)


def documented_pip_lines() -> list[str]:
    section = PAGE.read_text().split("## From a clone of the repository", 1)[1]
    return PIP_LINE.findall(section)


def test_the_page_installs_from_the_wheelhouse_with_pip() -> None:
    assert documented_pip_lines() == [
        "pip install --find-links dist eventsourcing-application eventsourcing-sqlite",
        (
            'pip install --find-links dist "eventsourcing-postgres[binary]" '
            "eventsourcing-cipher"
        ),
    ]


def pip_list(python: Path) -> set[str]:
    listed = subprocess.run(
        [python, "-m", "pip", "list", "--format", "freeze"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {line.split("==")[0].lower() for line in listed.splitlines()}


def test_the_documented_pip_lines_install_exactly_what_they_say(
    wheelhouse: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    # uv seeds pip into the environment in a second, where "python -m venv" takes
    # ten; what follows is the page's own pip.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "uv",
            "venv",
            "-q",
            "--seed",
            "--python",
            sys.executable,
            venv,
        ],
        check=True,
    )
    python = venv / "bin" / "python"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }
    first, second = documented_pip_lines()

    subprocess.run(shlex.split(first), cwd=wheelhouse.parent, env=env, check=True)
    assert {n for n in pip_list(python) if n.startswith("eventsourcing")} == {
        "eventsourcing-application",
        "eventsourcing-domain",
        "eventsourcing-persistence",
        "eventsourcing-popo",
        "eventsourcing-sqlite",
    }
    program = tmp_path / "app.py"
    program.write_text(
        "from eventsourcing.application import Application\n"
        "from eventsourcing.domain import Aggregate\n"
        "app = Application(env={'INFRASTRUCTURE_FACTORY': 'sqlite',"
        " 'SQLITE_DBNAME': 'app.db'})\n"
        "aggregate = Aggregate()\n"
        "app.save(aggregate)\n"
        "print(type(app.factory).__module__, app.repository.get(aggregate.id).id)\n"
    )
    ran = subprocess.run(
        [python, program], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("eventsourcing.sqlite ")

    subprocess.run(shlex.split(second), cwd=wheelhouse.parent, env=env, check=True)
    installed = pip_list(python)
    assert {"eventsourcing-postgres", "eventsourcing-cipher", "psycopg2-binary"} <= (
        installed
    )
    assert "psycopg2" not in installed  # the binary build, and only that
    imported = subprocess.run(
        [python, "-c", "import eventsourcing.postgres, eventsourcing.cipher"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert imported.returncode == 0, imported.stderr
