"""Wake-ups and leases on SQLite: recorders of one table wake each other's readers
in a process; leases are file locks that every process of the host sees."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from uuid import uuid4

from eventsourcing.persistence import InProcessLeases, StoredEvent
from eventsourcing.sqlite import Factory, FileLeases


def stored() -> StoredEvent:
    return StoredEvent(uuid4(), 1, "tests:Event", b"{}")


def test_a_commit_by_one_recorder_wakes_readers_of_the_same_table(
    tmp_path: Path,
) -> None:
    env = {"SQLITE_DBNAME": str(tmp_path / "db.sqlite")}
    reader_factory = Factory("Worlds", env)
    wakeup = reader_factory.wakeup(reader_factory.application_recorder())
    other_table = Factory("Others", env).application_recorder()
    other_table.insert_events([stored()])
    assert wakeup.wait(0.0) is False
    writer = Factory("Worlds", env).application_recorder()
    writer.insert_events([stored()])
    assert wakeup.wait(0.0) is True


def test_file_leases_exclude_other_holders_until_released(tmp_path: Path) -> None:
    folder = str(tmp_path / "db.sqlite.leases")
    first, second = FileLeases(folder), FileLeases(folder)
    assert first.try_acquire("Counters/partition/0")
    assert first.try_acquire("Counters/partition/0")  # held already: a success
    assert not second.try_acquire("Counters/partition/0")
    assert second.try_acquire("Counters/partition/1")
    assert first.held() == {"Counters/partition/0"}
    assert second.held() == {"Counters/partition/1"}
    first.release("Counters/partition/0")
    first.release("not held")  # nothing happens
    assert first.held() == set()
    assert second.try_acquire("Counters/partition/0")
    second.close()
    assert second.held() == set()


def test_a_lease_file_says_who_holds_it_while_it_is_held(tmp_path: Path) -> None:
    leases, observer = FileLeases(str(tmp_path / "l")), FileLeases(str(tmp_path / "l"))
    assert observer.holder("a lease never taken") is None
    leases.try_acquire("p0")
    assert observer.holder("p0") == f"{socket.gethostname()}:{os.getpid()}"
    leases.release("p0")
    assert observer.holder("p0") is None


def test_lease_files_are_private_and_named_readably(tmp_path: Path) -> None:
    leases = FileLeases(str(tmp_path / "l"), file_mode=0o600)
    leases.try_acquire("Counters/partition/0")
    path = Path(leases.path("Counters/partition/0"))
    assert path.name.startswith("Counters_partition_0.")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # Names that differ only in characters a file name cannot hold get two files.
    assert leases.path("a/b") != leases.path("a_b")
    assert repr(leases) == f"FileLeases({str(tmp_path / 'l')!r})"
    leases.close()


def test_a_killed_process_loses_its_leases_at_once(tmp_path: Path) -> None:
    folder = str(tmp_path / "l")
    script = textwrap.dedent(
        f"""
        import os, sys
        from eventsourcing.sqlite import FileLeases
        leases = FileLeases({folder!r})
        assert leases.try_acquire("p0")
        print("held", flush=True)
        sys.stdin.read()
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == "held\n"
            leases = FileLeases(folder)
            assert not leases.try_acquire("p0")
            assert leases.holder("p0") == f"{socket.gethostname()}:{child.pid}"
            child.kill()
            child.wait(10)
            assert leases.try_acquire("p0")
            leases.close()
        finally:
            child.kill()


def test_leases_forgotten_without_closing_are_released(tmp_path: Path) -> None:
    folder = str(tmp_path / "l")
    leases = FileLeases(folder)
    leases.try_acquire("p0")
    del leases
    assert FileLeases(folder).try_acquire("p0")


def test_the_factory_gives_file_leases_beside_a_database_file(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    factory = Factory("Counters", {"SQLITE_DBNAME": str(db)})
    leases = factory.leases()
    assert isinstance(leases, FileLeases)
    assert leases.folder == f"{os.path.realpath(db)}.leases"
    other = Factory("Counters", {"SQLITE_DBNAME": f"file:{db}"}).leases()
    assert leases.try_acquire("Counters/partition/0")
    assert not other.try_acquire("Counters/partition/0")
    leases.close()


def test_an_in_memory_database_has_leases_held_in_the_process() -> None:
    factory = Factory("Counters", {"SQLITE_DBNAME": ":memory:"})
    assert isinstance(factory.leases(), InProcessLeases)
