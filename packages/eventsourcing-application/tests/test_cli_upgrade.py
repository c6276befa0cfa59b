"""``eventsourcing upgrade`` where it cannot, or must not, upgrade."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eventsourcing.application import Application
from eventsourcing.cli import _upgrade, main
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic


class Notes(Application):
    is_snapshotting_enabled = True

    def write(self) -> None:
        note = Aggregate()
        self.save(note)
        self.take_snapshot(note.id)


APP = get_topic(Notes)


def test_a_backend_that_cannot_upgrade_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRASTRUCTURE_FACTORY", "popo")
    assert main(["upgrade", "--app", APP]) == 1
    assert "cannot upgrade a store in place" in capsys.readouterr().err


def test_an_in_memory_sqlite_database_is_not_upgraded(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRASTRUCTURE_FACTORY", "sqlite")
    monkeypatch.setenv("SQLITE_DBNAME", ":memory:")
    assert main(["upgrade", "--app", APP]) == 1
    assert "ends with its process" in capsys.readouterr().err


def test_a_store_without_tables_has_nothing_to_upgrade(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRASTRUCTURE_FACTORY", "sqlite")
    monkeypatch.setenv("SQLITE_DBNAME", str(tmp_path / "empty.db"))
    monkeypatch.setenv("CREATE_TABLE", "no")
    assert main(["upgrade", "--app", APP]) == 1
    assert "no such table: notes_events" in capsys.readouterr().err
    from eventsourcing.sqlite import Factory

    factory = Factory("Notes", {"SQLITE_DBNAME": str(tmp_path / "empty.db")})
    with pytest.raises(ValueError, match="there is nothing to upgrade"):
        factory.upgrade(lambda stored: stored.state)
    factory.close()


def test_a_current_store_is_written_again_and_verified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRASTRUCTURE_FACTORY", "sqlite")
    monkeypatch.setenv("SQLITE_DBNAME", str(tmp_path / "notes.db"))
    with Notes() as app:
        app.write()
    assert main(["upgrade", "--app", APP, "--json"]) == 0
    assert '"verified": true' in capsys.readouterr().out


def test_an_upgrade_that_does_not_read_back_the_same_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRASTRUCTURE_FACTORY", "sqlite")
    monkeypatch.setenv("SQLITE_DBNAME", str(tmp_path / "notes.db"))
    with Notes() as app:
        app.write()
    summaries = iter([{"events": {1: "before"}}, {"events": {1: "after"}}])

    def summary(app: Any) -> Any:
        return next(summaries)

    monkeypatch.setattr(_upgrade, "store_summary", summary)
    assert main(["upgrade", "--app", APP]) == 1
    err = capsys.readouterr().err
    assert "does not read back as the store did before" in err
    assert ".backup" in err


def test_a_dry_run_of_a_store_without_snapshots_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INFRASTRUCTURE_FACTORY", "sqlite")
    path = tmp_path / "plain.db"
    monkeypatch.setenv("SQLITE_DBNAME", str(path))
    with Application(env={"IS_SNAPSHOTTING_ENABLED": "no"}) as app:
        app.save(Aggregate())
    before = path.read_bytes()
    assert main(["upgrade", "--name", "Application", "--dry-run"]) == 0
    assert "1 events and 0 snapshots can be upgraded" in capsys.readouterr().out
    assert path.read_bytes() == before
