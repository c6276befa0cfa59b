"""The monorepo keeps its promises: one version, one namespace, typed distributions."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = sorted(p for p in (ROOT / "packages").iterdir() if (p / "src").is_dir())
sys.path.insert(0, str(ROOT / "scripts"))
import version  # noqa: E402


def test_every_distribution_and_sibling_pin_carries_the_one_version() -> None:
    assert version.drift(version.read_version()) == []


def test_the_version_check_reports_drift(tmp_path: Path) -> None:
    assert version.drift("0.0.1") != []
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "version.py"), "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_eventsourcing_is_a_namespace_spanning_several_distributions() -> None:
    import eventsourcing

    domain = importlib.import_module("eventsourcing.domain")
    persistence = importlib.import_module("eventsourcing.persistence")
    assert (
        Path(domain.__file__ or "").parts[-5]
        != Path(persistence.__file__ or "").parts[-5]
    )
    assert getattr(eventsourcing, "__file__", None) is None
    assert len(list(eventsourcing.__path__)) >= len(PACKAGES)


def test_no_distribution_ships_a_namespace_init() -> None:
    assert list(ROOT.glob("packages/*/src/eventsourcing/__init__.py")) == []


def test_every_distribution_is_typed_documented_and_built_from_src() -> None:
    for package in PACKAGES:
        project = tomllib.loads((package / "pyproject.toml").read_text())
        assert project["project"]["name"] == package.name
        assert "Typing :: Typed" in project["project"]["classifiers"], package.name
        assert (package / "README.md").read_text().startswith(f"# {package.name}")
        modules = [
            p for p in (package / "src" / "eventsourcing").iterdir() if p.is_dir()
        ]
        assert modules, package.name
        for module in modules:
            if module.name == "__pycache__":
                continue
            assert (module / "py.typed").exists(), module
            assert (module / "__init__.py").exists(), module
        assert (package / "tests").is_dir(), package.name


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("Run the whole test suite", 1)[1]
    command = section.split("```\n", 2)[1].strip()
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert command in ci_lines
