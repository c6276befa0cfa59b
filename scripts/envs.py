"""Virtual environments like hatch's default one, on any supported Python.

The test command runs the suites under every Python the distributions declare;
hatch makes the environment of the first, and this module the others: the
workspace members installed editable and the dependencies of
``[envs.default]`` in ``hatch.toml``, so the two never drift apart. The
interpreters are found on ``PATH``, in pyenv's and uv's folders, or through
``EVENTSOURCING_PYTHON_3_12`` (and so on); a missing one is an error, never a
silent skip.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Collection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_CLASSIFIER = "Programming Language :: Python :: "


def supported_pythons(root: Path = ROOT) -> list[str]:
    """The Python versions the distributions declare (``"3.11"``, ...), oldest first."""
    pyproject = root / "packages" / "eventsourcing-domain" / "pyproject.toml"
    classifiers = tomllib.loads(pyproject.read_text())["project"]["classifiers"]
    versions = [
        c.removeprefix(_CLASSIFIER)
        for c in classifiers
        if c.startswith(_CLASSIFIER) and "." in c.removeprefix(_CLASSIFIER)
    ]
    return sorted(versions, key=_version_key)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def override_variable(version: str) -> str:
    """The variable that names the interpreter for ``version`` explicitly."""
    return "EVENTSOURCING_PYTHON_" + version.replace(".", "_")


def candidates(version: str) -> list[Path]:
    """Where an interpreter for ``version`` may be, most likely first."""
    found: list[Path] = []
    on_path = shutil.which(f"python{version}")
    if on_path:
        found.append(Path(on_path))
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    uv = Path(
        os.environ.get("UV_PYTHON_INSTALL_DIR", Path.home() / ".local/share/uv/python")
    )
    for pattern, folder in [
        (f"versions/{version}.*/bin/python{version}", pyenv),
        (f"cpython-{version}.*/bin/python{version}", uv),
    ]:
        found += sorted(folder.glob(pattern), key=_release, reverse=True)
    found += [
        Path(f"/usr/local/bin/python{version}"),
        Path(f"/usr/bin/python{version}"),
    ]
    return found


def _release(python: Path) -> tuple[int, ...]:
    """The release in an install folder's name (``3.12.1``, ``cpython-3.12.1-linux``),
    so that the newest patch release comes first: 3.12.10 before 3.12.9."""
    match = re.search(r"\d+\.\d+\.\d+", python.parts[-3])
    return _version_key(match.group()) if match else ()


def reports_version(python: Path, version: str) -> bool:
    """Whether ``python`` runs and is Python ``version`` (a pyenv shim for a version
    that is not selected fails to run)."""
    try:
        result = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return False
    return result.returncode == 0 and result.stdout.strip() == version


def find_python(version: str) -> Path:
    """An interpreter for Python ``version``, or an error saying where it looked."""
    variable = override_variable(version)
    override = os.environ.get(variable)
    if override:
        if reports_version(Path(override), version):
            return Path(override)
        msg = f"{variable}={override} is not a working Python {version} interpreter."
        raise LookupError(msg)
    looked = candidates(version)
    for python in looked:
        if reports_version(python, version):
            return python
    msg = (
        f"No Python {version} found, which the distributions declare and the test "
        f"command tests. Looked at: {', '.join(map(str, looked)) or 'nothing'}. "
        f"Install it (for example: pyenv install {version}, or uv python install "
        f"{version}), or set {variable} to its interpreter."
    )
    raise LookupError(msg)


def requirements(root: Path = ROOT, without: Collection[str] = ()) -> list[str]:
    """``uv pip install`` arguments for what hatch's default environment holds,
    but the dependencies named in ``without``."""
    config = tomllib.loads((root / "hatch.toml").read_text())["envs"]["default"]
    members = [
        folder
        for pattern in config["workspace"]["members"]
        for folder in sorted(root.glob(pattern))
        if (folder / "pyproject.toml").is_file()
    ]
    editable = [arg for folder in members for arg in ("-e", str(folder))]
    dependencies = [
        d for d in config["dependencies"] if _requirement_name(d) not in without
    ]
    return [*editable, *dependencies]


def _requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    return match.group().lower() if match else requirement


def _stamp(python: Path, root: Path, without: Collection[str] = ()) -> str:
    """Changes when the interpreter or anything that decides the contents does."""
    digest = hashlib.sha256(str(python.resolve()).encode())
    digest.update(repr(sorted(without)).encode())
    digest.update((root / "hatch.toml").read_bytes())
    for pyproject in sorted(root.glob("*/*/pyproject.toml")):
        digest.update(pyproject.read_bytes())
    return digest.hexdigest()


def ensure_environment(
    python: Path, folder: Path, root: Path = ROOT, without: Collection[str] = ()
) -> Path:
    """The Python of a virtual environment in ``folder`` like hatch's default one
    (but the dependencies named in ``without``), made (again) only when hatch.toml,
    a pyproject.toml or the interpreter changed."""
    stamp = folder / ".eventsourcing-stamp"
    venv_python = folder / "bin" / "python"
    expected = _stamp(python, root, without)
    if venv_python.exists() and stamp.is_file() and stamp.read_text() == expected:
        return venv_python
    uv = [sys.executable, "-m", "uv"]
    subprocess.run(
        [*uv, "venv", "-q", "--clear", "--python", python, folder], check=True
    )
    install = [*uv, "pip", "install", "-q", "--python", str(venv_python)]
    subprocess.run([*install, *requirements(root, without)], check=True)
    stamp.write_text(expected)
    return venv_python
