"""The tutorial (docs/tutorial.md) works when followed literally in a fresh
virtual environment: its pip line (with the wheelhouse, as the page says for a
clone), its module ``todos.py`` as the page builds it, its Python steps as one
script in the same folder, and its ``eventsourcing`` commands."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
INTO_MODULE = re.compile(r"(In|Add to) `todos\.py`:\s*$")


def page_parts() -> tuple[str, str, list[str], list[str]]:
    """The module todos.py, the script of the other Python steps, the install
    command and the eventsourcing commands."""
    text = PAGE.read_text()
    module: list[str] = []
    script: list[str] = []
    shell: list[str] = []
    for match in BLOCK.finditer(text):
        language, code = match.groups()
        before = text[: match.start()].rstrip().splitlines()[-1]
        if language == "python":
            (module if INTO_MODULE.match(before) else script).append(code)
        elif language == "text":
            shell += code.splitlines()
    (install,) = [line for line in shell if line.startswith("pip install ")]
    commands = [line for line in shell if line.startswith("eventsourcing ")]
    return "\n".join(module), "\n".join(script), [install], commands


def test_the_tutorial_builds_a_module_and_shows_the_command_line_tool() -> None:
    module, script, install, commands = page_parts()
    assert "class Todos(Application[TodoList])" in module
    assert "class Progress(ProcessApplication[Tally])" in module
    assert script.startswith("from todos import TodoList, Todos")
    assert install == [
        (
            "pip install eventsourcing-application eventsourcing-sqlite "
            "eventsourcing-system"
        )
    ]
    assert len(commands) == 2


def test_following_the_tutorial_in_a_fresh_environment(
    wheelhouse: Path, tmp_path: Path
) -> None:
    module, script, (install,), commands = page_parts()
    venv = tmp_path / ".venv"
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
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTHON", "COV_", "COVERAGE", "INFRASTRUCTURE"))
            and not k.startswith(("SQLITE_", "EVENTSOURCING_"))
        },
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }
    folder = tmp_path / "todos"
    folder.mkdir()

    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            argv, cwd=folder, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    run([*shlex.split(install), "--find-links", str(wheelhouse)])
    (folder / "todos.py").write_text(module)
    (folder / "tutorial.py").write_text(script)
    ran = run(["python", "tutorial.py"])
    assert "__main__" not in ran.stderr  # the model's topics name its module

    table, as_json = (run(shlex.split(command)) for command in commands)
    assert "TodoList.Started" in table.stdout
    lines = [json.loads(line) for line in as_json.stdout.splitlines()]
    events = [line for line in lines if "topic" in line]
    # Sunday's two items ticked off (Saturday's list was in memory).
    assert [e["topic"] for e in events] == ["todos:TodoList.ItemDone"] * 2
