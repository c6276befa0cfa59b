"""The driver comes from an extra: without one, importing the module says which."""

from __future__ import annotations

import importlib
import sys

import pytest

from eventsourcing.persistence import ConfigurationError, InfrastructureFactory


@pytest.fixture
def without_psycopg2(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if neither psycopg2 nor psycopg2-binary were installed, and
    eventsourcing.postgres not yet imported (monkeypatch restores both)."""
    monkeypatch.setitem(sys.modules, "psycopg2", None)  # None: import fails
    for name in list(sys.modules):
        if name == "eventsourcing.postgres" or name.startswith(
            "eventsourcing.postgres."
        ):
            monkeypatch.delitem(sys.modules, name)


@pytest.mark.usefixtures("without_psycopg2")
def test_importing_without_a_driver_names_both_extras() -> None:
    with pytest.raises(ModuleNotFoundError) as info:
        importlib.import_module("eventsourcing.postgres")
    message = str(info.value)
    assert message.startswith(
        "eventsourcing.postgres needs the PostgreSQL driver psycopg2, which is not "
        "installed."
    )
    assert "pip install 'eventsourcing-postgres[binary]'" in message
    assert "pip install 'eventsourcing-postgres[source]'" in message
    assert info.value.name == "psycopg2"
    assert isinstance(info.value.__cause__, ImportError)


@pytest.mark.usefixtures("without_psycopg2")
def test_choosing_the_backend_without_a_driver_says_how_to_install_one() -> None:
    with pytest.raises(ConfigurationError, match=r"eventsourcing-postgres\[binary\]"):
        InfrastructureFactory.construct("app", {"INFRASTRUCTURE_FACTORY": "postgres"})
