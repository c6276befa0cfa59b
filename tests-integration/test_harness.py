"""The harness learns from each backend what it cannot guess: whether its storage
outlives the process, and settings for fresh storage (see harness.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from harness import (
    checked_declaration,
    declaration,
    environ_for,
    installed_backends,
    outlives_process,
)


@pytest.mark.parametrize("backend", installed_backends())
def test_every_installed_backend_declares_whether_its_storage_outlives_the_process(
    backend: str,
) -> None:
    assert isinstance(declaration(backend).outlives_process, bool)


def test_the_built_in_backends_declare_what_they_keep() -> None:
    assert outlives_process("popo") is False
    assert outlives_process("sqlite") is True
    assert outlives_process("postgres") is True
    assert outlives_process("jsonlines") is True


def test_settings_come_from_the_backend_and_the_server_from_the_harness(
    tmp_path: Path,
) -> None:
    assert environ_for("popo", tmp_path, {}) == {"INFRASTRUCTURE_FACTORY": "popo"}
    assert environ_for("sqlite", tmp_path, {}) == {
        "INFRASTRUCTURE_FACTORY": "sqlite",
        "SQLITE_DBNAME": str(tmp_path / "sqlite.db"),
    }
    server = {"POSTGRES_HOST": "db.example", "POSTGRES_DBNAME": "es"}
    env = environ_for("postgres", tmp_path, server)
    assert env.items() >= {"INFRASTRUCTURE_FACTORY": "postgres", **server}.items()
    assert env["POSTGRES_SCHEMA"].startswith("test_")


def test_a_backend_that_declares_nothing_is_told_what_to_register() -> None:
    with pytest.raises(LookupError) as info:
        declaration("memo")
    assert str(info.value) == (
        "The backend 'memo' registers nothing in the entry-point group "
        "'eventsourcing.testing.environ', so the integration suite cannot tell "
        "whether its storage outlives the process. Register a module there, named "
        "'memo', with outlives_process = True or False (and environ(tmp_path) if "
        "the backend needs settings to find fresh storage), as the backend author's "
        "page of the documentation shows."
    )


@pytest.mark.parametrize(
    "declared", [SimpleNamespace(), SimpleNamespace(outlives_process="yes")]
)
def test_outlives_process_must_be_declared_as_a_bool(declared: object) -> None:
    with pytest.raises(TypeError, match="must declare outlives_process = True or"):
        checked_declaration("memo", declared)


def test_environ_if_declared_must_be_a_function() -> None:
    declared = SimpleNamespace(outlives_process=False, environ={"MEMO_LABEL": "x"})
    with pytest.raises(TypeError, match=r"environ\(tmp_path\) -> dict\[str, str\]"):
        checked_declaration("memo", declared)
    fine = SimpleNamespace(outlives_process=False, environ=lambda tmp_path: {})
    assert checked_declaration("memo", fine) is fine
