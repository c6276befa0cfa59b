"""The ``eventsourcing`` command: log, show and verify, for people and programs."""

from __future__ import annotations

import json
import runpy
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any
from unittest import mock
from uuid import UUID, uuid4

import pytest

from eventsourcing import cli
from eventsourcing.application import Application
from eventsourcing.cli import Command, CommandError, Output, main
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic


class Dog(Aggregate):
    @event("Registered")
    def __init__(self, name: str) -> None:
        self.name = name
        self.tricks: list[str] = []

    @event("TrickAdded")
    def add_trick(self, trick: str) -> None:
        self.tricks.append(trick)


class Kennel(Application[Dog]):
    is_snapshotting_enabled = True

    def register(self, name: str, *tricks: str) -> UUID:
        dog = Dog(name)
        for trick in tricks:
            dog.add_trick(trick)
        self.save(dog)
        return dog.id


APP = get_topic(Kennel)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite file with two dogs, configured through the environment."""
    path = tmp_path / "kennel.db"
    monkeypatch.setenv("INFRASTRUCTURE_FACTORY", "sqlite")
    monkeypatch.setenv("SQLITE_DBNAME", str(path))
    with Kennel() as app:
        fido = app.register("Fido", "sit", "roll over")
        app.register("Rex")
        app.take_snapshot(fido)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line]


def ids(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    rows = connection.execute(
        "SELECT DISTINCT originator_id FROM kennel_events ORDER BY notification_id"
    ).fetchall()
    connection.close()
    return [row[0] for row in rows]


def test_help_lists_the_installed_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["--help"])
    assert raised.value.code == 0
    out = capsys.readouterr().out
    for name in ("log", "show", "verify"):
        assert name in out
    status, out, _ = run(capsys)
    assert status == 2
    assert "COMMAND" in out


def test_log_prints_the_decoded_log(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "log", "--app", APP)
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith("#1 ")
    assert "Dog.Registered" in lines[0]
    assert "name='Fido'" in lines[0]
    assert "trick='roll over'" in lines[2]
    assert lines[-1] == "(4 shown)"


def test_log_for_programs_filters_by_topic_originator_start_and_limit(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fido = ids(store)[0]
    status, out, _ = run(capsys, "log", "--app", APP, "--json", "--topic", "TrickAdded")
    records = json_lines(out)
    assert status == 0
    assert [r["id"] for r in records] == [2, 3]
    assert records[0]["state"]["trick"] == "sit"
    _, out, _ = run(capsys, "log", "--app", APP, "--json", "--originator", fido)
    assert {r["originator_id"] for r in json_lines(out)} == {fido}
    _, out, _ = run(
        capsys, "log", "--app", APP, "--json", "--start", "2", "--limit", "2"
    )
    assert [r["id"] for r in json_lines(out)] == [2, 3]


def test_log_follows_new_events(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def add_later() -> None:
        time.sleep(0.3)
        with Kennel() as app:
            app.register("Late")

    thread = threading.Thread(target=add_later)
    thread.start()
    status, out, _ = run(
        capsys,
        "log",
        "--app",
        APP,
        "--json",
        "--follow",
        "--interval",
        "0.05",
        "--limit",
        "5",
    )
    thread.join()
    assert status == 0
    assert json_lines(out)[-1]["state"]["name"] == "Late"


def test_log_shows_an_unreadable_record_and_goes_on(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt(store, notification_id=2)
    status, out, _ = run(capsys, "log", "--app", APP)
    assert status == 0
    assert "<unreadable: " in out.splitlines()[1]
    assert "does not match its checksum" in out
    _, out, _ = run(capsys, "log", "--app", APP, "--json")
    assert "error" in json_lines(out)[1]


def corrupt(path: Path, notification_id: int) -> None:
    """Flip one byte of a stored state, as a failing disk would."""
    connection = sqlite3.connect(path)
    (state,) = connection.execute(
        "SELECT state FROM kennel_events WHERE notification_id = ?",
        (notification_id,),
    ).fetchone()
    flipped = bytearray(state)
    flipped[-3] ^= 0x20
    connection.execute(
        "UPDATE kennel_events SET state = ? WHERE notification_id = ?",
        (bytes(flipped), notification_id),
    )
    connection.commit()
    connection.close()


def test_show_prints_events_and_the_state_at_a_version(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fido = ids(store)[0]
    status, out, _ = run(capsys, "show", "--app", APP, fido, "--version", "2")
    assert status == 0
    assert "Dog.TrickAdded" in out
    assert "Dog at version 2" in out
    assert "tricks=['sit']" in out
    _, out, _ = run(capsys, "show", "--app", APP, fido, "--json")
    *rows, state = json_lines(out)
    assert [row["version"] for row in rows] == [1, 2, 3]
    assert rows[1]["topic"] == get_topic(Dog.TrickAdded)  # type: ignore[attr-defined]  # defined by @event
    assert rows[1]["state"]["trick"] == "sit"
    assert state["aggregate"]["tricks"] == ["sit", "roll over"]


def test_show_errors_are_one_line(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "show", "--app", APP, str(uuid4()))
    assert status == 1
    assert "no events of aggregate" in err
    status, _, err = run(capsys, "show", "--app", APP, "not-an-id", "--version", "1")
    assert status == 2
    assert "is not an aggregate ID" in err
    status, _, err = run(capsys, "show", "--app", APP, str(uuid4()), "--version", "3")
    assert "at version 3" in err


def test_verify_reads_every_event_and_snapshot(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "verify", "--app", APP)
    assert status == 0
    assert out.strip() == "Kennel: 5 records checked, 0 bad"  # 4 events, 1 snapshot
    corrupt(store, notification_id=3)
    before = store.read_bytes()
    status, out, _ = run(capsys, "verify", "--app", APP, "--json")
    (summary,) = json_lines(out)
    assert status == 1
    assert (summary["checked"], summary["bad"]) == (5, 1)
    assert summary["first_bad"]["originator_version"] == 3
    assert "checksum" in summary["first_bad"]["error"]
    assert store.read_bytes() == before  # nothing changed
    _, out, _ = run(capsys, "verify", "--app", APP)
    assert "1 bad; the first: event" in out


class OutOfOrder(Application):
    name = "Kennel"

    def construct_recorder(self) -> Any:
        recorder = super().construct_recorder()
        select = recorder.select_notifications

        def backwards(start: int, limit: int) -> list[Notification]:
            return list(reversed(select(start, limit)))

        recorder.select_notifications = backwards  # type: ignore[method-assign,assignment]  # spoils the order
        return recorder


def test_verify_refuses_a_log_out_of_order(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(
        capsys, "verify", "--app", get_topic(OutOfOrder), "--allow-module", __name__
    )
    assert status == 1
    assert "out of order: 3 after 4" in err


def test_a_store_opened_by_name_with_allowed_modules(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(
        capsys, "log", "--name", "Kennel", "--json", "--allow-module", __name__
    )
    assert status == 0
    assert len(json_lines(out)) == 4
    # Without snapshotting configured, verify reads the events alone.
    corrupt(store, notification_id=1)
    corrupt(store, notification_id=4)
    status, out, _ = run(
        capsys, "verify", "--name", "Kennel", "--json", "--allow-module", __name__
    )
    (summary,) = json_lines(out)
    assert (status, summary["checked"], summary["bad"]) == (1, 4, 2)
    assert summary["first_bad"]["originator_version"] == 1


def test_notifications_are_read_in_batches(store: Path) -> None:
    with Kennel() as app:
        assert [n.id for n in cli.notifications(app, batch_size=2)] == [1, 2, 3, 4]
        assert [n.id for n in cli.notifications(app, 3, batch_size=2)] == [3, 4]


def test_the_current_folder_is_where_app_modules_are_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "here_app.py").write_text(
        "from eventsourcing.application import Application\n"
        "class Here(Application):\n"
        "    pass\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))]
    )
    status, out, _ = run(capsys, "log", "--app", "here_app:Here")
    assert (status, out.strip()) == (0, "(0 shown)")
    sys.modules.pop("here_app", None)


def test_settings_can_be_given_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "other.db"
    env = ["--env", "INFRASTRUCTURE_FACTORY=sqlite", "--env", f"SQLITE_DBNAME={path}"]
    status, out, _ = run(capsys, "log", "--app", APP, *env)
    assert (status, out.strip()) == (0, "(0 shown)")
    assert path.exists()
    status, _, err = run(capsys, "log", "--app", APP, "--env", "NOEQUALS")
    assert status == 2
    assert "--env takes NAME=VALUE" in err


def test_app_must_name_an_application_class(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, _, err = run(capsys, "log", "--app", "eventsourcing.domain:Aggregate")
    assert status == 2
    assert "not an application class" in err
    status, _, err = run(capsys, "log", "--app", "no_such_module_xyz:App")
    assert status == 1
    assert "TopicError" in err


def test_a_broken_or_foreign_plugin_does_not_break_the_others(
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = mock.Mock()
    broken.load.side_effect = ImportError("missing dependency")
    foreign = mock.Mock()
    foreign.load.return_value = lambda: object()
    foreign.value = "somewhere:Thing"
    found = {"broken": broken, "foreign": foreign, **cli._command._entry_points()}
    with mock.patch.object(cli._command, "_entry_points", return_value=found):
        with pytest.raises(SystemExit):
            main(["--help"])
        out = " ".join(capsys.readouterr().out.split())
        assert "(unavailable: missing dependency)" in out
        assert "is not an eventsourcing.cli.Command" in out
        for name in ("broken", "foreign"):
            with pytest.raises(SystemExit):
                main([name])
            assert f"the command {name!r} could not be loaded" in (
                capsys.readouterr().err
            )


def test_interrupting_a_command_exits_quietly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Interrupted(Command):
        def run(self, args: Any, output: Output) -> int:
            raise KeyboardInterrupt

    class Failing(Command):
        def run(self, args: Any, output: Output) -> int:
            raise CommandError("went wrong", status=3)

    entry_points = {}
    for name, cls in (("stop", Interrupted), ("fail", Failing)):
        entry_point = mock.Mock()
        entry_point.load.return_value = cls
        entry_points[name] = entry_point
    with mock.patch.object(cli._command, "_entry_points", return_value=entry_points):
        assert main(["stop"]) == 130
        assert main(["fail"]) == 3
    assert "eventsourcing fail: went wrong" in capsys.readouterr().err


def test_output_tables_for_people_and_programs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Output(json_lines=False).table("Title", ["a", "b"], [[1, 2]])
    out = capsys.readouterr().out
    assert "Title" in out
    assert "a" in out
    Output(json_lines=True).table("Title", ["a", "b"], [[1, 2]])
    Output(json_lines=True).message("not for programs")
    assert json_lines(capsys.readouterr().out) == [{"a": 1, "b": 2}]


def test_python_dash_m_eventsourcing_runs_the_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with (
        mock.patch.object(sys, "argv", ["eventsourcing"]),
        pytest.raises(SystemExit) as raised,
    ):
        runpy.run_module("eventsourcing", run_name="__main__")
    assert raised.value.code == 2
    assert "COMMAND" in capsys.readouterr().out


def test_a_distribution_can_run_just_its_own_commands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Hello(Command):
        help = "say hello"

        def run(self, args: Any, output: Output) -> int:
            output.message("hello")
            return 0

    class Refuse(Command):
        def run(self, args: Any, output: Output) -> int:
            raise CommandError("not today")

    commands = {"hello": Hello(), "refuse": Refuse()}
    assert main(["hello"], commands=commands, prog="python -m mine") == 0
    assert capsys.readouterr().out == "hello\n"
    assert main(["refuse"], commands=commands, prog="python -m mine") == 1
    assert capsys.readouterr().err == "python -m mine refuse: not today\n"
    with pytest.raises(SystemExit):
        main(["log"], commands=commands, prog="python -m mine")
    assert "invalid choice: 'log'" in capsys.readouterr().err
