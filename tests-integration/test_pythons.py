"""The test command runs the suites under every Python the distributions declare,
finding each interpreter or failing loudly (scripts/envs.py)."""

from __future__ import annotations

import re
import shutil
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import envs  # noqa: E402


def test_the_supported_pythons_are_the_declared_ones() -> None:
    assert envs.supported_pythons() == ["3.11", "3.12", "3.13"]
    assert f"{sys.version_info[0]}.{sys.version_info[1]}" in envs.supported_pythons()


@pytest.mark.parametrize("version", envs.supported_pythons())
def test_each_supported_python_is_found_and_is_that_version(version: str) -> None:
    python = envs.find_python(version)
    assert envs.reports_version(python, version)


def test_a_missing_python_fails_loudly_with_where_it_looked_and_the_fix() -> None:
    with pytest.raises(LookupError) as info:
        envs.find_python("3.99")
    message = str(info.value)
    assert message.startswith("No Python 3.99 found, which the distributions declare")
    assert "/usr/bin/python3.99" in message
    assert "pyenv install 3.99" in message
    assert "EVENTSOURCING_PYTHON_3_99" in message


def test_an_interpreter_named_explicitly_must_be_that_python(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    this = f"{sys.version_info[0]}.{sys.version_info[1]}"
    other = next(v for v in envs.supported_pythons() if v != this)
    monkeypatch.setenv(envs.override_variable(other), sys.executable)
    with pytest.raises(LookupError, match=f"is not a working Python {other} interp"):
        envs.find_python(other)
    monkeypatch.setenv(envs.override_variable(this), sys.executable)
    assert envs.find_python(this) == Path(sys.executable)


def test_what_does_not_run_is_no_interpreter(tmp_path: Path) -> None:
    # Such as a pyenv shim for a version that is installed but not selected.
    shim = tmp_path / "python3.12"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.12: command not found' >&2\n")
    shim.chmod(0o755)
    assert not envs.reports_version(shim, "3.12")
    assert not envs.reports_version(tmp_path / "missing", "3.12")


def test_pyenv_and_uv_installs_are_looked_at_newest_release_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for folder in [
        "pyenv/versions/3.12.9/bin",
        "pyenv/versions/3.12.10/bin",
        "uv/cpython-3.12.3-linux-x86_64-gnu/bin",
    ]:
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "python3.12").touch()
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "uv"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    found = [str(p.relative_to(tmp_path)) for p in envs.candidates("3.12")[:3]]
    assert found == [
        "pyenv/versions/3.12.10/bin/python3.12",
        "pyenv/versions/3.12.9/bin/python3.12",
        "uv/cpython-3.12.3-linux-x86_64-gnu/bin/python3.12",
    ]


def test_the_environments_hold_what_hatchs_default_environment_holds() -> None:
    config = tomllib.loads((ROOT / "hatch.toml").read_text())["envs"]["default"]
    arguments = envs.requirements()
    members = [arguments[i + 1] for i, a in enumerate(arguments) if a == "-e"]
    assert sorted(Path(m).name for m in members) == sorted(
        p.parent.name
        for p in [
            *ROOT.glob("packages/*/pyproject.toml"),
            *ROOT.glob("examples/eventsourcing-*/pyproject.toml"),
        ]
    )
    assert arguments[2 * len(members) :] == config["dependencies"]
    # Those of the other Pythons leave out tools that only lint or build docs.
    trimmed = envs.requirements(without=["mypy", "sphinx"])
    removed = [a for a in arguments if a not in trimmed]
    assert [re.split(r"[<>=~! \[]", a)[0] for a in removed] == ["mypy", "sphinx"]


def test_an_environment_is_made_again_only_when_what_decides_it_changed(
    tmp_path: Path,
) -> None:
    root = tmp_path / "repo"
    for name in ["hatch.toml", "packages/eventsourcing-domain/pyproject.toml"]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, root / name)
    folder = tmp_path / "venv"
    (folder / "bin").mkdir(parents=True)
    (folder / "bin" / "python").symlink_to(sys.executable)
    stamp = envs._stamp(Path(sys.executable), root)
    (folder / ".eventsourcing-stamp").write_text(stamp)
    # Unchanged: the environment is used as it is (no uv, which would fail here).
    assert envs.ensure_environment(Path(sys.executable), folder, root) == (
        folder / "bin" / "python"
    )
    hatch = root / "hatch.toml"
    hatch.write_text(hatch.read_text() + "\n# a change\n")
    assert envs._stamp(Path(sys.executable), root) != stamp
