"""The monorepo keeps its promises: one version, one namespace, typed distributions."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

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


def copy_of_the_projects(tmp_path: Path) -> Path:
    for pyproject in version.pyprojects():
        copy = tmp_path / pyproject.relative_to(ROOT)
        copy.parent.mkdir(parents=True)
        copy.write_text(pyproject.read_text())
    (tmp_path / "VERSION").write_text(version.read_version())
    return tmp_path


def test_bump_moves_every_version_and_sibling_pin_together(tmp_path: Path) -> None:
    root = copy_of_the_projects(tmp_path)
    version.bump("9.2.0", root)
    assert version.read_version(root) == "9.2.0"
    assert version.drift("9.2.0", root) == []
    pyproject = (root / "packages/eventsourcing-sqlite/pyproject.toml").read_text()
    assert '"eventsourcing-persistence == 9.2.0"' in pyproject
    assert 'version = "9.2.0"' in pyproject


def test_drift_names_the_file_and_the_fix(tmp_path: Path) -> None:
    root = copy_of_the_projects(tmp_path)
    sqlite = root / "packages/eventsourcing-sqlite/pyproject.toml"
    current = version.read_version(root)
    sqlite.write_text(sqlite.read_text().replace(f"== {current}", "== 0.0.1"))
    (problem,) = version.drift(current, root)
    assert problem.startswith("packages/eventsourcing-sqlite/pyproject.toml")
    assert f"must pin exactly == {current}" in problem


def test_bump_refuses_what_is_not_a_release_version(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="Not a release version"):
        version.bump("nine", copy_of_the_projects(tmp_path))


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


def test_coverage_measures_every_distribution_even_modules_no_test_imports() -> None:
    import configparser

    config = configparser.ConfigParser()
    config.read(ROOT / ".coveragerc")
    sources = set(config["run"]["source"].split())
    expected = {
        str(src.relative_to(ROOT))
        for src in [
            *ROOT.glob("packages/*/src"),
            *ROOT.glob("examples/eventsourcing-*/src"),
        ]
    }
    assert sources == expected
    assert config["report"].getboolean("include_namespace_packages")


def test_every_distribution_declares_the_supported_pythons() -> None:
    for pyproject in [*PACKAGES, *ROOT.glob("examples/eventsourcing-*")]:
        project = tomllib.loads((pyproject / "pyproject.toml").read_text())["project"]
        versions = {
            c.rsplit(" :: ", 1)[1]
            for c in project["classifiers"]
            if c.startswith("Programming Language :: Python :: 3.")
        }
        assert versions == {"3.11", "3.12", "3.13"}, pyproject.name
        assert project["requires-python"] == ">=3.11"
