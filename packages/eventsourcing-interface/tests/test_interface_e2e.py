"""End to end across processes: a leader application served over HTTP in one
process, and a process application in another process that follows it through
the HTTP client, records in a SQLite file, crashes midway, restarts, and still
processes every notification exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPT = str(Path(__file__).with_name("interface_e2e_apps.py"))
TOKEN = "e2e-token"


def run_follower(
    url: str, db: Path, target: int, crash_after: int
) -> subprocess.CompletedProcess[str]:
    args = ["follower", url, TOKEN, str(db), str(target), str(crash_after)]
    return subprocess.run(
        [sys.executable, SCRIPT, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_follower_process_restarted_midway_processes_each_notification_once(
    tmp_path: Path,
) -> None:
    db = tmp_path / "counters.db"
    leader = subprocess.Popen(
        [sys.executable, SCRIPT, "leader", TOKEN],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert leader.stdin is not None
    assert leader.stdout is not None

    def make(changes: int) -> Any:
        assert leader.stdin is not None
        assert leader.stdout is not None
        leader.stdin.write(f"make {changes}\n")
        leader.stdin.flush()
        return json.loads(leader.stdout.readline())

    try:
        port_line = leader.stdout.readline()
        assert port_line.startswith("PORT "), port_line
        url = f"http://127.0.0.1:{int(port_line.split()[1])}"
        first = make(15)
        assert first["max_id"] == 16  # One world created, then 15 changes.

        crashed = run_follower(url, db, target=first["max_id"], crash_after=7)
        assert crashed.returncode == 3, crashed.stderr
        assert crashed.stdout == ""

        status = run_follower(url, db, target=0, crash_after=-1)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["position"] == 7

        second = make(20)  # The leader carries on while the follower is down.
        finished = run_follower(url, db, target=second["max_id"], crash_after=-1)
        assert finished.returncode == 0, finished.stderr
        state = json.loads(finished.stdout)

        assert state["position"] == second["max_id"] == 16 + 21
        assert state["counts"] == second["counts"]
        assert sum(state["counts"].values()) == 35
        # One event per change, plus the creation of each of the three counters.
        assert state["notifications"] == 35 + 3
    finally:
        leader.stdin.close()
        leader.wait(30)
        leader.stdout.close()
    assert leader.returncode == 0
