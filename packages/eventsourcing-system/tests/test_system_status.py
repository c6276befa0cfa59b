"""The status of a system's followers (who holds each partition, its position,
the leader's last notification, its lag) and the commands: run, status and
repartition, from ``eventsourcing`` and ``python -m eventsourcing.system``."""

from __future__ import annotations

import json
import logging
import os
import runpy
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from eventsourcing.application import Application, NotificationLog, Section
from eventsourcing.cli import main as eventsourcing_main
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Notification, Tracking
from eventsourcing.system import (
    Follower,
    PartitionStatus,
    ProcessEvent,
    System,
    SystemStatus,
    status,
)
from eventsourcing.system._commands import load_system, main
from eventsourcing.system._partitions import encode_layout
from eventsourcing.system._sources import LeaderSource
from eventsourcing.system._status import _count_lags


class Note(Aggregate):
    def __init__(self, text: str) -> None:
        self.text = text


class Notes(Application):
    def write(self, n: int) -> None:
        for i in range(n):
            self.save(Note(f"note {i}"))


class Readers(Follower):
    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        pass


class Indexes(Readers):
    partitions = 3


SYSTEM = System(pipes=[[Notes, Readers], [Notes, Indexes]])
TOPIC = f"{__name__}:SYSTEM"
ME = f"{socket.gethostname()}:{os.getpid()}"


def make_system() -> System:
    return SYSTEM


def not_a_system() -> str:
    return "no"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "INFRASTRUCTURE_FACTORY": "sqlite",
        "SQLITE_DBNAME": str(tmp_path / "db"),
        "WORKER_POLL_INTERVAL": "0.05",
        "WORKER_LEASE_INTERVAL": "0.05",
    }


def process(env: dict[str, str], name: str = "Readers", **kwargs: Any) -> None:
    notes = Notes(env=env)
    follower = SYSTEM.follower_cls(name)(env=env)
    follower.follow("Notes", notes.log)
    follower.pull_and_process("Notes", **kwargs)
    follower.close()
    notes.close()


def hold(env: dict[str, str], app: str, *partitions: int) -> Any:
    leases = SYSTEM.get_app_cls(app)(env=env).factory.leases()
    for partition in partitions:
        assert leases.try_acquire(f"{app}/partition/{partition}")
    return leases


def test_status_says_where_each_partition_is_and_who_holds_it(
    env: dict[str, str],
) -> None:
    Notes(env=env).write(5)
    process(env)
    Notes(env=env).write(2)
    leases = hold(env, "Readers", 0)
    found = status(SYSTEM, env, apps=["Readers"])
    assert found == SystemStatus(
        partitions=[
            PartitionStatus(
                follower="Readers",
                leader="Notes",
                partition=0,
                partitions=1,
                owner=ME,
                position=5,
                leader_position=7,
                lag=2,
            )
        ],
        problems=[],
    )
    assert found.unhealthy() == []
    assert found.unhealthy(max_lag=1) == [
        "Readers partition 0 of Notes's log lags by 2 (more than 1)"
    ]
    assert found.partitions[0].to_dict()["owner"] == ME
    leases.close()


def test_the_lag_of_each_partition_counts_its_own_notifications(
    env: dict[str, str],
) -> None:
    notes = Notes(env=env)
    notes.write(12)
    process(env, "Indexes", partitions=[1])
    found = status(SYSTEM, env, apps=["Indexes"])
    partition_of = Indexes(env=env).partition_of
    expected = [0, 0, 0]
    for notification in notes.log.select(1, 12):
        expected[partition_of(notification.originator_id)] += 1
    expected[1] = 0
    assert [p.lag for p in found.partitions] == expected
    assert all(p.lag_exact for p in found.partitions)
    assert [p.owner for p in found.partitions] == [None, None, None]
    assert len(found.unhealthy()) == 3  # no worker holds any


def test_a_long_backlog_is_counted_only_so_far(env: dict[str, str]) -> None:
    Notes(env=env).write(30)
    found = status(SYSTEM, env, apps=["Indexes"], scan_limit=10)
    assert sum(p.lag or 0 for p in found.partitions) == 10
    assert not any(p.lag_exact for p in found.partitions)
    complete = status(SYSTEM, env, apps=["Indexes"])
    assert sum(p.lag or 0 for p in complete.partitions) == 30


def test_a_changed_number_of_partitions_is_a_problem(env: dict[str, str]) -> None:
    Notes(env=env).write(1)
    Indexes(env=env).recorder.insert_events(
        [], tracking=Tracking("Notes#partitions", encode_layout(0, 2))
    )
    found = status(SYSTEM, env, apps=["Indexes"])
    assert found.problems == [
        (
            "Indexes is configured with 3 partitions, but its positions in Notes's "
            "log were recorded with 2"
        )
    ]
    assert found.unhealthy()[0] == found.problems[0]


def test_status_of_a_leader_read_over_http_knows_no_last_notification(
    env: dict[str, str],
) -> None:
    found = status(
        SYSTEM,
        {**env, "NOTES_NOTIFICATION_LOG_URL": "http://127.0.0.1:9"},
        apps=["Readers"],
    )
    assert (found.partitions[0].leader_position, found.partitions[0].lag) == (
        None,
        None,
    )
    assert found.unhealthy(max_lag=0) == [
        "Readers partition 0 of Notes's log is held by no worker"
    ]


class _Empty(NotificationLog):
    def __getitem__(self, section_id: str) -> Section:
        raise NotImplementedError

    def select(self, start: int, limit: int) -> list[Notification]:
        return []


def test_counting_lags_reads_up_to_the_last_notification_and_no_further(
    env: dict[str, str],
) -> None:
    notes = Notes(env=env)
    notes.write(12)
    source = LeaderSource("Notes", notes.log)
    lags, exact = _count_lags(source, [0, 0, 0], last=5, scan_limit=100)
    assert (sum(n or 0 for n in lags), exact) == (5, True)
    # A log that has lost what it had (nothing to count, rather than a loop).
    lags, exact = _count_lags(LeaderSource("X", _Empty()), [0, 0], 5, 100)
    assert (lags, exact) == ([0, 0], True)


def test_status_names_the_followers_when_asked_for_another() -> None:
    with pytest.raises(ValueError, match=r"'Notes' is not a follower of the system"):
        status(SYSTEM, apps=["Notes"])


def test_status_covers_every_follower_by_default(env: dict[str, str]) -> None:
    found = status(SYSTEM, env)
    assert [(p.follower, p.partition) for p in found.partitions] == [
        ("Readers", 0),
        ("Indexes", 0),
        ("Indexes", 1),
        ("Indexes", 2),
    ]


def run_main(
    capsys: pytest.CaptureFixture[str], *argv: str, cli: Any = main
) -> tuple[int, str, str]:
    code = cli(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def env_args(env: dict[str, str]) -> list[str]:
    return [
        item for name, value in env.items() for item in ("--env", f"{name}={value}")
    ]


def test_the_status_command_prints_a_table_for_people_and_lines_for_programs(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    Notes(env=env).write(3)
    process(env)
    leases = hold(env, "Readers", 0)
    code, out, _ = run_main(capsys, "status", TOPIC, "--app", "Readers", *env_args(env))
    assert code == 0
    assert "Followers" in out
    assert "0/1" in out
    assert ME in out
    code, out, _ = run_main(
        capsys, "status", TOPIC, "--json", *env_args(env), "--app", "Indexes"
    )
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["partition"] for r in rows] == [0, 1, 2]
    assert rows[0]["owner"] is None
    assert sum(r["lag"] for r in rows) == 3  # Indexes processed nothing yet
    leases.close()


def test_the_status_command_is_a_health_check_with_max_lag(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    Notes(env=env).write(3)
    leases = hold(env, "Readers", 0)
    args = ["status", TOPIC, "--app", "Readers", *env_args(env)]
    code, out, _ = run_main(capsys, *args, "--max-lag", "5")
    assert code == 0
    code, out, _ = run_main(capsys, *args, "--max-lag", "2")
    assert code == 3
    assert "unhealthy: Readers partition 0 of Notes's log lags by 3" in out
    leases.close()


def test_the_status_command_lists_problems(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    Indexes(env=env).recorder.insert_events(
        [], tracking=Tracking("Notes#partitions", encode_layout(0, 2))
    )
    args = ["status", TOPIC, "--app", "Indexes", *env_args(env)]
    _, out, _ = run_main(capsys, *args, "--json")
    assert json.loads(out.splitlines()[-1])["problem"].startswith("Indexes is")
    _, out, _ = run_main(capsys, *args)
    assert "problem: Indexes is configured with 3 partitions" in out
    assert "?" not in out
    _, out, _ = run_main(
        capsys, *args, "--env", "NOTES_NOTIFICATION_LOG_URL=http://127.0.0.1:9"
    )
    assert "?" in out  # the leader's last notification is unknown over HTTP


def test_a_truncated_lag_is_shown_as_at_least(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    Notes(env=env).write(9)
    args = ["status", TOPIC, "--app", "Indexes", *env_args(env)]
    _, out, _ = run_main(capsys, *args, "--scan-limit", "3")
    assert ">=" in out
    _, out, _ = run_main(capsys, *args)
    assert ">=" not in out


def test_the_run_command_runs_a_worker_until_sigterm(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    Notes(env=env).write(2)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    code, out, _ = run_main(capsys, "run", TOPIC, "--app", "Readers", *env_args(env))
    timer.join()
    assert code == 0
    assert "acquired partition 0 of 1" in out
    assert "stops (SIGTERM)" in out
    assert Readers(env=env).recorder.max_tracking_id("Notes") == 2


def test_the_run_command_reports_lease_changes_to_programs(
    env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    with caplog.at_level(logging.DEBUG, "eventsourcing"):
        _, out, _ = run_main(
            capsys, "run", TOPIC, "--app", "Indexes", "--json", *env_args(env)
        )
        assert logging.getLogger("eventsourcing").level == logging.DEBUG  # kept
    timer.join()
    records = [json.loads(line) for line in out.splitlines()]
    changes = [
        (r["lease_change"], r["partition"]) for r in records if "lease_change" in r
    ]
    assert sorted(changes) == [
        ("acquired", 0),
        ("acquired", 1),
        ("acquired", 2),
        ("released", 0),
        ("released", 1),
        ("released", 2),
    ]
    assert all(r["worker"] == ME for r in records if "lease_change" in r)


def test_the_repartition_command(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    Notes(env=env).write(4)
    process(env)
    args = ["repartition", TOPIC, "--app", "Readers", *env_args(env)]
    code, out, _ = run_main(capsys, *args, "--partitions", "2")
    assert (code, out) == (
        0,
        "Readers: 2 partitions of Notes's log, from notification 5\n",
    )
    code, out, _ = run_main(capsys, *args, "--partitions", "2")
    assert (code, out) == (0, "Readers has 2 partitions already\n")


def test_systems_are_named_by_topic_as_objects_or_functions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_system(TOPIC) is SYSTEM
    assert load_system(f"{__name__}:make_system") is SYSTEM
    (tmp_path / "here_system.py").write_text(
        f"import sys\nsystem = sys.modules[{__name__!r}].SYSTEM\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(tmp_path)])
    assert load_system("here_system:system") is SYSTEM


@pytest.mark.parametrize("name", ["not_a_system", "Notes", "ME"])
def test_a_topic_that_names_no_system_is_refused(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(capsys, "status", f"{__name__}:{name}")
    assert code == 2
    assert "not a System: name a System object or a function" in err


def test_settings_on_the_command_line_are_name_equals_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_main(capsys, "status", TOPIC, "--env", "NOVALUE")
    assert code == 2
    assert "--env takes NAME=VALUE, not 'NOVALUE'" in err


def test_python_dash_m_eventsourcing_system_runs_the_commands(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with (
        mock.patch.object(sys, "argv", ["python -m eventsourcing.system"]),
        pytest.raises(SystemExit) as raised,
    ):
        runpy.run_module("eventsourcing.system", run_name="__main__")
    assert raised.value.code == 2
    out = capsys.readouterr().out
    for name in ("run", "status", "repartition"):
        assert name in out


def test_the_eventsourcing_command_has_the_system_commands(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_main(
        capsys,
        "status",
        TOPIC,
        "--app",
        "Readers",
        *env_args(env),
        cli=eventsourcing_main,
    )
    assert code == 0
    assert "Followers" in out


def test_errors_of_a_worker_are_one_line(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(capsys, "run", TOPIC, "--app", "Notes", *env_args(env))
    assert code == 1
    assert err.startswith("python -m eventsourcing.system run: ValueError: 'Notes'")
