"""Provide a PostgreSQL server for the tests: the configured one, or a throwaway one.

With ``POSTGRES_HOST`` set, :func:`acquire` returns that server's settings (from
``POSTGRES_HOST``, ``POSTGRES_PORT``, ``POSTGRES_USER``, ``POSTGRES_PASSWORD``).
Otherwise it starts a throwaway PostgreSQL server (``initdb`` into a temporary
folder, ``pg_ctl start`` on a free loopback port, durability switched off for
speed) and fails loudly, never skips, when the server binaries are missing.

One throwaway server serves a whole test run. Every pytest-xdist worker calls
:func:`acquire`; the workers share the folder
``<tmp>/eventsourcing-pgserver-<run id>`` (run id: ``PYTEST_XDIST_TESTRUNUID``,
else this process's id), and an ``fcntl.flock`` on its ``lock`` file serialises
them. Under the lock, the first caller starts the server and writes
``state.json`` (port, password, users); later callers add themselves to the
users. :meth:`Server.release` (also run at process exit) removes the caller;
the last one out stops the server (``pg_ctl stop -m immediate``) and deletes
the folder. Users whose process has died are pruned on every release, and
:func:`acquire` also stops servers left behind by earlier runs whose users are
all dead, so a crashed worker cannot keep a server alive for long. Each worker
then calls :meth:`Server.create_database` for a database of its own, named
with :func:`worker_database_name`.

Usage from a conftest (no pytest dependency here)::

    server = pgserver.acquire()
    dbname = pgserver.worker_database_name("es")
    server.create_database(dbname)
    env = server.settings.env(dbname)   # POSTGRES_* variables for the tests
    ...
    server.release()

As root (CI), ``initdb`` and ``pg_ctl`` run as the unprivileged ``postgres``
user through ``runuser``, because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import glob
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "PostgresSettings",
    "Server",
    "ServerUnavailableError",
    "acquire",
    "worker_database_name",
]

FOLDER_PREFIX = "eventsourcing-pgserver-"
SUPERUSER = "eventsourcing"
OS_USER = "postgres"
HOW_TO_PROVIDE = (
    "Either set POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER and POSTGRES_PASSWORD "
    "to an existing PostgreSQL server (the user must be allowed to create "
    "databases), or install the PostgreSQL server binaries (for example "
    "`apt-get install postgresql`; set POSTGRES_BINDIR if initdb is not found)."
)


class ServerUnavailableError(RuntimeError):
    """No PostgreSQL server is configured and none could be started."""


@dataclass(frozen=True)
class PostgresSettings:
    """How to connect to the server; the password is kept out of the repr."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)

    def env(self, dbname: str) -> dict[str, str]:
        """Return the ``POSTGRES_*`` environment variables for database *dbname*."""
        return {
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
        }

    def connect(self, dbname: str = "postgres") -> Any:
        """Open an autocommit psycopg2 connection to *dbname*."""
        import psycopg2

        conn = psycopg2.connect(
            dbname=dbname,
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            connect_timeout=10,
        )
        conn.autocommit = True
        return conn


def worker_database_name(prefix: str = "es") -> str:
    """Name a database for this pytest-xdist worker: ``<prefix>_<worker id>``."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"{prefix}_{worker}".lower()


class Server:
    """A PostgreSQL server used by the tests (configured, or shared throwaway)."""

    def __init__(
        self, settings: PostgresSettings, folder: Path | None, token: str | None
    ) -> None:
        self.settings = settings
        self.folder = folder
        self._token = token
        self._released = False

    @property
    def is_throwaway(self) -> bool:
        return self.folder is not None

    def __repr__(self) -> str:
        return f"Server({self.settings!r}, folder={self.folder!r})"

    def create_database(self, name: str) -> None:
        """Create database *name* afresh (dropping any left from an earlier run)."""
        from psycopg2 import sql

        conn = self.settings.connect()
        try:
            with conn.cursor() as cursor:
                ident = sql.Identifier(name)
                cursor.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident)
                )
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(ident))
        finally:
            conn.close()

    def drop_database(self, name: str) -> None:
        """Drop database *name*, disconnecting any sessions still using it."""
        from psycopg2 import sql

        conn = self.settings.connect()
        try:
            with conn.cursor() as cursor:
                cursor.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(name)
                    )
                )
        finally:
            conn.close()

    def release(self) -> None:
        """Stop using the server; the last user of a throwaway server stops it."""
        if self._released:
            return
        self._released = True
        if self.folder is None or self._token is None:
            return
        with _locked(self.folder) as held:
            if not held:
                return  # the folder is gone: someone already cleaned up
            state = _read_state(self.folder)
            if state is None:
                return
            users = [u for u in state["users"] if u != self._token and _alive(u)]
            if users:
                state["users"] = users
                _write_state(self.folder, state)
            else:
                _stop_and_remove(self.folder)

    # Kept for symmetry with the brief: ``stop()`` is ``release()``.
    stop = release


def acquire(run_id: str | None = None) -> Server:
    """Return the configured server, or a shared throwaway one (see module doc)."""
    if os.environ.get("POSTGRES_HOST"):
        return Server(_configured_settings(), folder=None, token=None)
    if run_id is None:
        run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
    bindir = find_bindir()
    _reap_stale_servers()
    folder = Path(tempfile.gettempdir()) / f"{FOLDER_PREFIX}{run_id}"
    token = f"{os.getpid()}:{uuid.uuid4().hex}"
    while True:
        folder.mkdir(mode=0o755, exist_ok=True)
        with _locked(folder) as held:
            if not held:
                continue  # removed by the last user while we waited: start over
            state = _read_state(folder)
            if state is None or not _running(bindir, folder):
                if state is not None:
                    _stop_and_remove(folder, keep_lock=True)
                state = _start(bindir, folder)
                state["users"] = []
            state["users"] = [u for u in state["users"] if _alive(u)] + [token]
            _write_state(folder, state)
            break
    settings = PostgresSettings(
        host="127.0.0.1",
        port=int(state["port"]),
        user=SUPERUSER,
        password=str(state["password"]),
    )
    server = Server(settings, folder=folder, token=token)
    atexit.register(server.release)
    return server


def _configured_settings() -> PostgresSettings:
    missing = [
        name
        for name in ("POSTGRES_USER", "POSTGRES_PASSWORD")
        if name not in os.environ
    ]
    if missing:
        msg = (
            f"POSTGRES_HOST is set but {', '.join(missing)} is not: set it to "
            "the credentials of a user who may create databases, or unset "
            "POSTGRES_HOST to let the tests start a throwaway server."
        )
        raise ServerUnavailableError(msg)
    return PostgresSettings(
        host=os.environ["POSTGRES_HOST"],
        port=int(os.environ.get("POSTGRES_PORT") or "5432"),
        user=os.environ["POSTGRES_USER"],
        password=os.environ["POSTGRES_PASSWORD"],
    )


def find_bindir() -> Path:
    """Find the folder holding ``initdb``, ``pg_ctl`` and ``postgres``."""
    candidates: list[str] = []
    if os.environ.get("POSTGRES_BINDIR"):
        candidates.append(os.environ["POSTGRES_BINDIR"])
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["pg_config", "--bindir"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        candidates.append(out.stdout.strip())
    candidates.extend(
        sorted(
            glob.glob("/usr/lib/postgresql/*/bin"),
            key=lambda p: _version_key(Path(p).parent.name),
            reverse=True,
        )
    )
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).parent))
    for candidate in candidates:
        path = Path(candidate)
        if all((path / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres")):
            return path
    msg = (
        f"No PostgreSQL server is configured and none can be started. {HOW_TO_PROVIDE}"
    )
    raise ServerUnavailableError(msg)


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in name.split(".") if p.isdigit())


_thread_lock = threading.Lock()


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[bool]:
    """Hold the folder's flock; yield False if the folder was removed meanwhile."""
    path = folder / "lock"
    with _thread_lock:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            yield False
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            yield same
        finally:
            os.close(fd)


def _read_state(folder: Path) -> dict[str, Any] | None:
    try:
        text = (folder / "state.json").read_text()
    except FileNotFoundError:
        return None
    state: dict[str, Any] = json.loads(text)
    return state


def _write_state(folder: Path, state: dict[str, Any]) -> None:
    tmp = folder / "state.json.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(state, f)
    os.replace(tmp, folder / "state.json")


def _alive(token: str) -> bool:
    pid = int(token.split(":", 1)[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", OS_USER, "--", *cmd]


def _chown_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        pw = pwd.getpwnam(OS_USER)
        os.chown(path, pw.pw_uid, pw.pw_gid)


def _check_os_user() -> None:
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        msg = (
            "Running as root, the throwaway PostgreSQL server must run as the "
            f"unprivileged '{OS_USER}' user, which does not exist. Create it "
            f"(useradd {OS_USER}) or run the tests as another user. {HOW_TO_PROVIDE}"
        )
        raise ServerUnavailableError(msg) from None


def _run(cmd: list[str], what: str, log: Path | None = None) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
    if proc.returncode != 0:
        detail = (proc.stdout + proc.stderr).strip()
        if log is not None and log.exists():
            detail += "\n" + log.read_text(errors="replace")[-4000:]
        msg = (
            f"Could not {what} the throwaway PostgreSQL server:\n{detail}\n"
            f"{HOW_TO_PROVIDE}"
        )
        raise ServerUnavailableError(msg)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start(bindir: Path, folder: Path) -> dict[str, Any]:
    """Initialise and start a server in *folder*/pg; return its state."""
    _check_os_user()
    pg = folder / "pg"
    if pg.exists():
        shutil.rmtree(pg)
    pg.mkdir(mode=0o700)
    _chown_to_postgres(pg)
    data, sock, log = pg / "data", pg / "sock", pg / "server.log"
    password = secrets.token_urlsafe(24)
    pwfile = pg / "pwfile"
    pwfile.write_text(password + "\n")
    _chown_to_postgres(pwfile)
    try:
        _run(
            _as_postgres(
                [
                    str(bindir / "initdb"),
                    "--pgdata",
                    str(data),
                    "--username",
                    SUPERUSER,
                    "--pwfile",
                    str(pwfile),
                    "--auth-host=scram-sha-256",
                    "--auth-local=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ]
            ),
            "initialise",
        )
    finally:
        pwfile.unlink()
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            "\n# throwaway test server: speed over durability\n"
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{sock}'\n"
            "fsync = off\n"
            "synchronous_commit = off\n"
            "full_page_writes = off\n"
            "max_connections = 200\n"
        )
    sock.mkdir(mode=0o700)
    _chown_to_postgres(sock)
    last_error: ServerUnavailableError | None = None
    for _attempt in range(5):
        port = _free_port()
        try:
            _run(
                _as_postgres(
                    [
                        str(bindir / "pg_ctl"),
                        "start",
                        "--wait",
                        "--timeout=60",
                        "--pgdata",
                        str(data),
                        "--log",
                        str(log),
                        "-o",
                        f"-p {port}",
                    ]
                ),
                "start",
                log,
            )
        except ServerUnavailableError as e:
            last_error = e  # most likely the port was taken meanwhile: try another
            time.sleep(0.2)
            continue
        return {"port": port, "password": password, "bindir": str(bindir)}
    assert last_error is not None
    raise last_error


def _running(bindir: Path, folder: Path) -> bool:
    data = folder / "pg" / "data"
    if not data.is_dir():
        return False
    proc = subprocess.run(
        _as_postgres([str(bindir / "pg_ctl"), "status", "--pgdata", str(data)]),
        capture_output=True,
        check=False,
        timeout=60,
    )
    return proc.returncode == 0


def _stop_and_remove(folder: Path, *, keep_lock: bool = False) -> None:
    """Stop the server in *folder* (if any) and delete the folder's contents."""
    state = _read_state(folder) or {}
    data = folder / "pg" / "data"
    bindir = Path(state.get("bindir") or find_bindir())
    if (data / "postmaster.pid").exists():
        subprocess.run(
            _as_postgres(
                [
                    str(bindir / "pg_ctl"),
                    "stop",
                    "--wait",
                    "--mode=immediate",
                    "--pgdata",
                    str(data),
                ]
            ),
            capture_output=True,
            check=False,
            timeout=120,
        )
    shutil.rmtree(folder / "pg", ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        (folder / "state.json").unlink()
    if not keep_lock:
        # Unlinking the lock while holding it is safe: waiters notice the
        # changed inode in _locked() and start over.
        with contextlib.suppress(FileNotFoundError):
            (folder / "lock").unlink()
        with contextlib.suppress(OSError):
            folder.rmdir()


def _reap_stale_servers() -> None:
    """Stop servers of earlier runs whose users have all died (crashed runs)."""
    for path in Path(tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*"):
        lock = path / "lock"
        try:
            fd = os.open(lock, os.O_RDWR)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # in use (maybe starting): leave it alone
            try:
                if os.stat(lock).st_ino != os.fstat(fd).st_ino:
                    continue
            except FileNotFoundError:
                continue
            state = _read_state(path)
            if state is not None and not any(_alive(u) for u in state["users"]):
                _stop_and_remove(path)
        finally:
            os.close(fd)
