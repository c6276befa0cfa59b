"""Infrastructure factory that builds SQLite recorders from environment variables."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

from eventsourcing.persistence import (
    ConfigurationError,
    InfrastructureFactory,
    Leases,
    StoredEvent,
    StoreUpgrade,
    TrackingRecorder,
)
from eventsourcing.sqlite._datastore import (
    DEFAULT_SYNCHRONOUS,
    MAX_LOCK_TIMEOUT,
    SYNCHRONOUS_MODES,
    SQLiteDatastore,
)
from eventsourcing.sqlite._leases import HAVE_FLOCK, FileLeases
from eventsourcing.sqlite._recorders import (
    SQLiteAggregateRecorder,
    SQLiteApplicationRecorder,
    SQLiteProcessRecorder,
)
from eventsourcing.sqlite._tracking import SQLiteTrackingRecorder
from eventsourcing.utils import strtobool

logger = logging.getLogger("eventsourcing.sqlite")

LAYOUTS = ("auto", "9.1", "current")
SHARED_EVENTS_TABLE = "stored_events"


@dataclass(frozen=True)
class Layout:
    """Where an application's records are in a database file, and in which rows.

    ``shared`` tables are named by purpose (``stored_events``, ``stored_snapshots``,
    ``tracking``), as eventsourcing 9.1 names them, and are used by every
    application configured with that file; otherwise tables are named after the
    application (``bank_events``). ``legacy`` rows are 9.1's (see the recorders).
    """

    shared: bool
    legacy: bool

    def describe(self) -> str:
        if not self.shared:
            return "tables of its own"
        rows = "eventsourcing 9.1's layout" if self.legacy else "the current rows"
        return f"the shared tables of eventsourcing 9.1 ({rows})"


class Factory(InfrastructureFactory):
    """Constructs SQLite recorders for one application, configured by environment.

    ``"SQLITE_DBNAME"`` (required) names the database file, ``":memory:"``, or a
    ``file:`` URI; ``"SQLITE_LOCK_TIMEOUT"`` is the seconds to wait for the write
    lock (default 5); ``"SQLITE_SYNCHRONOUS"`` is ``FULL`` (default: a commit
    survives a power loss), ``NORMAL``, ``EXTRA`` or ``OFF``;
    ``"SQLITE_FILE_MODE"`` the permissions of a new database file (octal, default
    ``600``); ``"SQLITE_LAYOUT"`` is ``auto`` (default), ``9.1`` or ``current``
    (see :class:`Layout`); ``"CREATE_TABLE"`` (default true) says whether to create
    missing tables. Tables are named after the application, so several
    applications can share one database file, unless the file holds a store that
    eventsourcing 9.1 wrote, which is then used as it is.
    """

    SQLITE_DBNAME = "SQLITE_DBNAME"
    SQLITE_LOCK_TIMEOUT = "SQLITE_LOCK_TIMEOUT"
    SQLITE_SYNCHRONOUS = "SQLITE_SYNCHRONOUS"
    SQLITE_FILE_MODE = "SQLITE_FILE_MODE"
    SQLITE_LAYOUT = "SQLITE_LAYOUT"
    CREATE_TABLE = "CREATE_TABLE"

    def __init__(self, application_name: str, env: Mapping[str, str]) -> None:
        super().__init__(application_name, env)
        db_name = self.getenv(self.SQLITE_DBNAME)
        if not db_name:
            msg = (
                f"{self.SQLITE_DBNAME} is not set. Set {self.SQLITE_DBNAME} to the "
                "path of a database file (or ':memory:') to use the 'sqlite' "
                "persistence backend."
            )
            raise ConfigurationError(msg)
        create_table_str = self.getenv(self.CREATE_TABLE) or "yes"
        try:
            self._create_table = bool(strtobool(create_table_str))
        except ValueError as e:
            msg = (
                f"{self.CREATE_TABLE}={create_table_str!r} is not a truth value. Use "
                "one of 'y', 'yes', 't', 'true', 'on', '1' or 'n', 'no', 'f', 'false', "
                "'off', '0'."
            )
            raise ConfigurationError(msg) from e
        self._layout_setting = (self.getenv(self.SQLITE_LAYOUT) or "auto").lower()
        if self._layout_setting not in LAYOUTS:
            msg = (
                f"{self.SQLITE_LAYOUT}={self._layout_setting!r} is not a layout: use "
                "'auto' (find what the file holds), '9.1' (the shared tables "
                "eventsourcing 9.1 writes) or 'current' (tables of each application)."
            )
            raise ConfigurationError(msg)
        self.datastore = SQLiteDatastore(
            db_name=db_name,
            lock_timeout=self._lock_timeout(),
            synchronous=self._synchronous(),
            file_mode=self._file_mode(),
        )
        self._layout: Layout | None = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(application_name={self.application_name!r}, "
            f"db_name={self.datastore.db_name!r})"
        )

    def _lock_timeout(self) -> float | None:
        value = self.getenv(self.SQLITE_LOCK_TIMEOUT) or ""
        try:
            timeout = float(value) if value else None
        except ValueError:
            timeout = -1.0
        if timeout is not None and not 0 <= timeout <= MAX_LOCK_TIMEOUT:
            msg = (
                f"{self.SQLITE_LOCK_TIMEOUT}={value!r} is not a number of "
                f"seconds from 0 to {MAX_LOCK_TIMEOUT:.0f}. Set it to a number such as "
                "'5' or '0.5', or unset it for the default of 5."
            )
            raise ConfigurationError(msg)
        return timeout

    def _synchronous(self) -> str:
        value = self.getenv(self.SQLITE_SYNCHRONOUS) or DEFAULT_SYNCHRONOUS
        if value.upper() not in SYNCHRONOUS_MODES:
            msg = (
                f"{self.SQLITE_SYNCHRONOUS}={value!r} is not a synchronous mode: use "
                "FULL (the default: a committed save survives a power loss), EXTRA, "
                "NORMAL (faster: the last commits may be lost on a power loss or OS "
                "crash) or OFF."
            )
            raise ConfigurationError(msg)
        return value.upper()

    def _file_mode(self) -> int:
        value = self.getenv(self.SQLITE_FILE_MODE) or "600"
        try:
            mode = int(value, 8)
        except ValueError:
            mode = -1
        if not 0 <= mode <= 0o777:
            msg = (
                f"{self.SQLITE_FILE_MODE}={value!r} is not a file mode: give octal "
                "permissions such as '600' (the default: the owner only) or '640'."
            )
            raise ConfigurationError(msg)
        return mode

    # Where the application's records are.

    def layout(self) -> Layout:
        """The layout of the application's tables in the database, found once."""
        if self._layout is None:
            self._layout = layout = self._find_layout()
            logger.info(
                "Application %r uses %s in SQLite database %r: %s",
                self.application_name,
                layout.describe(),
                self.datastore.db_name,
                ", ".join(
                    self.table_name(purpose, shared=layout.shared)
                    for purpose in ("events", "snapshots", "tracking")
                ),
            )
        return self._layout

    def forget_layout(self) -> None:
        """Find the layout again on next use (after an upgrade changed it)."""
        self._layout = None

    def upgrade(
        self, reseal: Callable[[StoredEvent], bytes], *, into: str | None = None
    ) -> StoreUpgrade:
        """Writes the application's events and snapshots again with the state
        ``reseal`` returns and converts a store laid out by eventsourcing 9.1 to
        the current rows (its tables keep their names), in one transaction, after
        copying the database file beside it (or, with ``into``, into a new file,
        leaving the original untouched)."""
        from eventsourcing.sqlite._upgrade import upgrade

        return upgrade(self, reseal, into)

    def _find_layout(self) -> Layout:
        tables = self.table_columns()
        shared = tables.get(SHARED_EVENTS_TABLE)
        shared_layout = (
            None
            if shared is None
            else Layout(shared=True, legacy="notification_id" not in shared)
        )
        setting = self._layout_setting
        if setting == "9.1":
            return shared_layout or Layout(shared=True, legacy=True)
        if setting == "current" or not self.application_name:
            return Layout(shared=False, legacy=False)
        own = self.table_name("events", shared=False)
        if own in tables:
            return Layout(shared=False, legacy=False)
        if shared_layout is None:
            _warn_of_new_tables(
                self.application_name, own, tables, self.datastore.db_name
            )
            return Layout(shared=False, legacy=False)
        others = sorted(
            name
            for name in tables
            if name.endswith("_events") and name not in (own, SHARED_EVENTS_TABLE)
        )
        if others:
            msg = (
                f"Application {self.application_name!r} has no table {own!r} in "
                f"SQLite database {self.datastore.db_name!r}, which holds both the "
                f"shared tables of eventsourcing 9.1 ({SHARED_EVENTS_TABLE!r}) and "
                f"tables of other applications ({', '.join(map(repr, others))}). "
                f"Set {self.SQLITE_LAYOUT}=9.1 (for this application: "
                f"{self.application_name.upper()}_{self.SQLITE_LAYOUT}) to use the "
                f"shared tables, or {self.SQLITE_LAYOUT}=current to create {own!r}."
            )
            raise ConfigurationError(msg)
        return shared_layout

    def table_columns(self) -> dict[str, set[str]]:
        """The database's tables and their columns."""
        rows = self.datastore.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
        tables: dict[str, set[str]] = {}
        for (name,) in rows:
            if name.startswith("sqlite_"):
                continue
            columns = self.datastore.fetchall(
                "SELECT name FROM pragma_table_info(?)", (name,)
            )
            tables[name] = {column for (column,) in columns}
        return tables

    def table_name(self, purpose: str, *, shared: bool | None = None) -> str:
        """The name of the application's table for ``purpose`` ("events",
        "snapshots", "tracking") in its layout (or in the given one)."""
        if shared is None:
            shared = self.layout().shared
        if shared:
            return "tracking" if purpose == "tracking" else f"stored_{purpose}"
        prefix = self.application_name.lower()
        if prefix:
            return f"{prefix}_{purpose}"
        return "stored_events" if purpose == "events" else purpose

    def _prepare(self, recorder: SQLiteAggregateRecorder) -> None:
        if self._create_table:
            recorder.create_table()

    def aggregate_recorder(self, purpose: str = "events") -> SQLiteAggregateRecorder:
        """Construct an aggregate recorder whose table is named after ``purpose``."""
        recorder = SQLiteAggregateRecorder(
            self.datastore, self.table_name(purpose), legacy=self.layout().legacy
        )
        self._prepare(recorder)
        return recorder

    def application_recorder(self) -> SQLiteApplicationRecorder:
        """Construct an application recorder."""
        recorder = SQLiteApplicationRecorder(
            self.datastore, self.table_name("events"), legacy=self.layout().legacy
        )
        self._prepare(recorder)
        return recorder

    def process_recorder(self) -> SQLiteProcessRecorder:
        """Construct a process recorder, with a tracking table beside the events."""
        recorder = SQLiteProcessRecorder(
            self.datastore,
            self.table_name("events"),
            self.table_name("tracking"),
            legacy=self.layout().legacy,
        )
        self._prepare(recorder)
        return recorder

    tracking_recorder_base = SQLiteTrackingRecorder

    def _construct_tracking_recorder(
        self, cls: type[TrackingRecorder]
    ) -> SQLiteTrackingRecorder:
        """Construct a tracking recorder (a view) named after the application, in
        the application's database."""
        recorder = cast(type[SQLiteTrackingRecorder], cls)(
            self.datastore, self.application_name
        )
        if self._create_table:
            recorder.create_table()
        return recorder

    def leases(self) -> Leases:
        """Leases that workers on this host share: file locks in the folder named
        after the database file with ``.leases`` appended (for an in-memory
        database, which one process holds, leases held in the process).

        .. versionadded:: 9.1.0
        """
        path = self.datastore.path
        if path is None:
            return super().leases()
        if not HAVE_FLOCK:  # pragma: no cover (Windows has no flock())
            logger.warning(
                "No file locks on this platform: the leases of %r are held in "
                "this process only, so run one worker for each application",
                self.application_name,
            )
            return super().leases()
        return FileLeases(f"{path}.leases", file_mode=self.datastore.file_mode)

    def close(self) -> None:
        """Close the database connections."""
        self.datastore.close()


def _warn_of_new_tables(
    application_name: str, own: str, tables: dict[str, set[str]], where: str
) -> None:
    """Say so when an application starts with new tables beside other
    applications' tables: it may have been renamed, and would not see its events."""
    others = sorted(t for t in tables if t.endswith("_events") and t != own)
    if others:
        logger.warning(
            "Application %r has no table %r in %r, which holds the tables of other "
            "applications (%s): new, empty tables are created. If the application "
            "was renamed, give its class the old name (the class attribute 'name') "
            "to keep its events.",
            application_name,
            own,
            where,
            ", ".join(others),
        )
