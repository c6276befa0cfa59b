"""Databases written by eventsourcing 9.1.9 open as they are, and back.

The fixtures in ``compat91/`` were written by the real 9.1.9 (see its README);
``manifest.json`` says what 9.1.9 reads in each. Forward: the project, given the
settings the 9.1.9 user had, reads the same. Then it goes on as a user would
(saves, snapshots, follows), and the real 9.1.9 reads the store back
(``read919.py``, which installs 9.1.9 into a cached virtual environment: the one
test here that needs the network; deselect it with ``-m "not compat919"``).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pgserver
import pytest

HERE = Path(__file__).resolve().parent / "compat91"
MANIFEST = json.loads((HERE / "manifest.json").read_text())
FIXTURES = sorted(MANIFEST["fixtures"])
KEY = MANIFEST["cipher_key"]
VENV = Path(tempfile.gettempdir()) / "read919-venv"

sys.path.insert(0, str(HERE))
import model919  # noqa: E402  (found on the path just set)
import read919  # noqa: E402

# The settings these tests set, cleared after each (the summary reads os.environ).
_VARIABLES = {
    *(k for fixture in MANIFEST["fixtures"].values() for k in fixture["env"]),
    "POSTGRES_SCHEMA",
    "CREATE_TABLE",
}


@pytest.fixture
def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """A copy of the fixture named by the test's parameter, configured in
    ``os.environ`` exactly as the 9.1.9 user had it."""
    name: str = request.param
    fixture = MANIFEST["fixtures"][name]
    for variable in _VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    env = dict(fixture["env"])
    args: list[str] = []
    if fixture["backend"] == "sqlite":
        for variable, value in env.items():
            if variable.endswith("SQLITE_DBNAME"):
                copy = tmp_path / value
                shutil.copy(HERE / value, copy)
                copy.chmod(0o600)
                env[variable] = str(copy)
        if "SQLITE_DBNAME" in env:
            args = ["--sqlite", env["SQLITE_DBNAME"]]
        else:
            args = [
                "--sqlite-bank",
                env["BANK_SQLITE_DBNAME"],
                "--sqlite-ledger",
                env["LEDGER_SQLITE_DBNAME"],
            ]
        for variable, value in env.items():
            monkeypatch.setenv(variable, value)
        yield {"name": name, "args": args, **fixture}
        return
    server = pgserver.acquire()
    dbname = f"compat_{uuid.uuid4().hex[:12]}"
    server.create_database(dbname)
    try:
        settings = server.settings.env(dbname)
        subprocess.run(
            [
                "psql",
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                "-h",
                settings["POSTGRES_HOST"],
                "-p",
                settings["POSTGRES_PORT"],
                "-U",
                settings["POSTGRES_USER"],
                "-d",
                dbname,
                "-f",
                str(HERE / fixture["files"][0]),
            ],
            env={**os.environ, "PGPASSWORD": settings["POSTGRES_PASSWORD"]},
            check=True,
            capture_output=True,
        )
        env.update(settings)
        for variable, value in env.items():
            monkeypatch.setenv(variable, value)
        args = ["--postgres", dbname]
        for option, variable in (
            ("--host", "POSTGRES_HOST"),
            ("--port", "POSTGRES_PORT"),
            ("--user", "POSTGRES_USER"),
            ("--password", "POSTGRES_PASSWORD"),
        ):
            # One argument, since a generated password may begin with "-".
            args.append(f"{option}={settings[variable]}")
        yield {"name": name, "args": args, **fixture}
    finally:
        server.drop_database(dbname)
        server.release()


def cipher_args(fixture: dict[str, Any]) -> list[str]:
    return ["--cipher-key", KEY] if "CIPHER_KEY" in fixture["env"] else []


def summary() -> dict[str, Any]:
    """What read919.py reports, built with the project in this process."""
    bank, ledger = model919.Bank(), model919.Ledger()
    try:
        result: dict[str, Any] = read919.summarize({"Bank": bank, "Ledger": ledger})
    finally:
        bank.close()
        ledger.close()
    applications: dict[str, Any] = result["applications"]
    return applications


def go_on_as_a_user(fixture: dict[str, Any]) -> dict[str, Any]:
    """Save, snapshot and follow, as the 9.1.9 user's code does; returns what
    changed."""
    bank, ledger = model919.Bank(), model919.Ledger()
    try:
        position = ledger.recorder.max_tracking_id("Bank")
        old_books = {
            book_id: ledger.repository.get(book_id).total
            for book_id in {n.originator_id for n in ledger.log.select(1, 100)}
            if isinstance(ledger.repository.get(book_id), model919.LedgerBook)
        }
        now = datetime.now(tz=UTC)
        account_id = bank.open_account(
            number="SE-0004",
            owner="Märta Ö",
            branch=uuid.uuid4(),
            opened_at=now,
            profile={"tags": ["new"], "limits": {"daily": Decimal("10.00")}},
        )
        bank.deposit(
            account_id,
            amount=Decimal("12.34"),
            reference=uuid.uuid4(),
            booked_at=now,
            memo="first",
            details={"via": ["app"]},
        )
        bank.take_snapshot(account_id)
        seen: list[int] = []
        policy = ledger.policy

        def counting_policy(domain_event: Any, process_event: Any) -> None:
            seen.append(process_event.tracking.notification_id)
            policy(domain_event, process_event)

        ledger.policy = counting_policy
        ledger.follow("Bank", bank.log)
        ledger.pull_and_process("Bank")
        return {
            "position": position,
            "seen": seen,
            "bank_max": bank.recorder.max_notification_id(),
            "new_total": ledger.get_book(account_id).total,
            "old_books": old_books,
            "old_books_now": {i: ledger.repository.get(i).total for i in old_books},
            "tracking": ledger.recorder.max_tracking_id("Bank"),
        }
    finally:
        bank.close()
        ledger.close()


@pytest.mark.parametrize("store", FIXTURES, indirect=True)
def test_project_reads_what_9_1_9_wrote(store: dict[str, Any]) -> None:
    assert summary() == store["applications"]


@pytest.mark.parametrize("store", FIXTURES, indirect=True)
def test_project_goes_on_where_9_1_9_left_off(store: dict[str, Any]) -> None:
    changed = go_on_as_a_user(store)
    # The follower started after its tracked position and processed only the
    # notifications it had not processed, each once.
    assert changed["seen"] == sorted(set(changed["seen"]))
    assert min(changed["seen"]) == changed["position"] + 1
    assert changed["tracking"] == max(changed["seen"])
    assert changed["new_total"] == Decimal("12.34")
    assert changed["old_books_now"] == changed["old_books"]
    # New notifications continue the store's sequence.
    assert changed["bank_max"] > store["applications"]["Bank"]["max_notification_id"]


@pytest.fixture(scope="session")
def python919() -> str:
    """The Python of a virtual environment with the real eventsourcing 9.1.9,
    made once (under a lock, since xdist workers start together)."""
    lock_path = Path(tempfile.gettempdir()) / "read919-venv.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        python: str = read919.ensure_venv(str(VENV))
    return python


@pytest.mark.compat919
@pytest.mark.parametrize("store", FIXTURES, indirect=True)
def test_9_1_9_reads_back_what_the_project_wrote(
    store: dict[str, Any], python919: str, tmp_path: Path
) -> None:
    go_on_as_a_user(store)
    expected = summary()
    out = tmp_path / "read-by-919.json"
    result = subprocess.run(
        [
            sys.executable,
            str(HERE / "read919.py"),
            "--python",
            python919,
            *store["args"],
            *cipher_args(store),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    read = json.loads(out.read_text())
    assert read["read_by"] == "eventsourcing 9.1.9"
    assert read["applications"] == expected


def upgrade(*args: str) -> None:
    from eventsourcing.cli import main

    for app in ("Bank", "Ledger"):
        assert main(["upgrade", "--app", f"model919:{app}", *args]) == 0


@pytest.mark.parametrize("store", FIXTURES, indirect=True)
def test_upgrade_converts_verifies_and_reads_the_same(
    store: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    upgrade()
    out = capsys.readouterr().out
    assert "verified: same events, IDs and positions" in out
    if store["backend"] == "sqlite":
        assert "9.1's rows converted to the current rows" in out
        assert ".backup" in out
    assert summary() == store["applications"]
    bank = model919.Bank()
    assert bank.mapper.legacy_format is False  # the store now has current formats
    assert not bank.recorder.legacy_layout
    bank.close()
    go_on_as_a_user(store)


@pytest.mark.parametrize("store", [f for f in FIXTURES if "aes" in f], indirect=True)
def test_upgrade_reencrypts_under_a_new_key(
    store: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from eventsourcing.cipher import AESCipher

    new_key = AESCipher.create_key(32)
    monkeypatch.setenv("CIPHER_KEY", new_key)
    monkeypatch.setenv("CIPHER_OLD_KEYS", KEY)
    upgrade()
    monkeypatch.delenv("CIPHER_OLD_KEYS")
    assert summary() == store["applications"]  # the new key alone reads it all
    monkeypatch.setenv("CIPHER_KEY", KEY)
    with pytest.raises(ValueError, match="neither 'CIPHER_KEY' nor one of"):
        summary()


@pytest.mark.parametrize(
    "store", [f for f in FIXTURES if f.startswith("sqlite")], indirect=True
)
def test_upgrade_into_a_new_file_leaves_the_original_as_it_was(
    store: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from eventsourcing.cli import main

    original = Path(store["args"][1])
    before = original.read_bytes()
    into = tmp_path / "upgraded.db"
    assert main(["upgrade", "--app", "model919:Bank", "--into", str(into)]) == 0
    assert original.read_bytes() == before
    assert f"the upgraded store: {into}" in capsys.readouterr().out
    assert main(["upgrade", "--app", "model919:Bank", "--into", str(into)]) == 1
    assert "the file exists" in capsys.readouterr().err
    assert main(["upgrade", "--app", "model919:Bank", "--dry-run", "--json"]) == 0
    (report,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert report["dry_run"] is True
    assert report["events"] > 0
    assert original.read_bytes() == before


def _columns(settings: dict[str, str], schema: str) -> set[tuple[str, str, str]]:
    import psycopg2

    connection = psycopg2.connect(
        dbname=settings["POSTGRES_DBNAME"],
        host=settings["POSTGRES_HOST"],
        port=settings["POSTGRES_PORT"],
        user=settings["POSTGRES_USER"],
        password=settings["POSTGRES_PASSWORD"],
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name, column_name, data_type FROM "
                "information_schema.columns WHERE table_schema = %s",
                (schema,),
            )
            return set(cursor.fetchall())
    finally:
        connection.close()


@pytest.mark.parametrize("store", ["postgres-plain"], indirect=True)
def test_postgres_tables_of_9_1_9_are_the_projects(
    store: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = {k: os.environ[k] for k in os.environ if k.startswith("POSTGRES_")}
    written_by_919 = _columns(settings, "public")
    monkeypatch.setenv("POSTGRES_SCHEMA", "made_by_the_project")
    model919.Bank().close()
    model919.Ledger().close()
    made_here = _columns(settings, "made_by_the_project")
    assert written_by_919 == made_here
    assert ("bank_events", "notification_id", "bigint") in made_here
