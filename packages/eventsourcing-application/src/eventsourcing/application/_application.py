"""The application base class: a domain model combined with its persistence."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import (
    ApplicationRecorder,
    DatetimeAsISO,
    DecimalAsStr,
    Environment,
    EventStore,
    InfrastructureFactory,
    JSONTranscoder,
    Mapper,
    RecordConflictError,
    Recording,
    Tracking,
    Transcoder,
    UUIDAsHex,
)

from ._log import LocalNotificationLog
from ._process_event import ProcessEvent
from ._repository import Repository

if TYPE_CHECKING:
    from typing_extensions import TypeVar

    from eventsourcing.domain import Aggregate

    # With a default, a bare ``Application`` (no subscript) is still --strict clean.
    TAggregate = TypeVar("TAggregate", bound=Aggregate, default=Any)
else:
    from typing import TypeVar

    TAggregate = TypeVar("TAggregate")

logger = logging.getLogger("eventsourcing.application")


class Application(Generic[TAggregate]):
    """Base class for event-sourced applications.

    Subclasses define command and query methods that use ``repository`` to get
    aggregates and :meth:`~Application.save` to record their new events.
    Persistence is chosen by environment variables: the ``env`` argument
    overrides ``os.environ``, which overrides the class attributes ``env`` and
    ``is_snapshotting_enabled``.

    ``Application[MyAggregate]`` (as 9.1 code writes it) tells type checkers what
    ``repository.get()`` returns. An application is a context manager that closes
    it (:meth:`close`) at the end of the block.
    """

    name: ClassVar[str] = "Application"
    env: Mapping[str, str] = {}
    is_snapshotting_enabled: ClassVar[bool] = False
    snapshotting_intervals: ClassVar[Mapping[type, int]] = {}
    snapshot_class: ClassVar[type[Snapshot]] = Snapshot
    log_section_size: ClassVar[int] = LocalNotificationLog.DEFAULT_SECTION_SIZE

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__

    repository: Repository[TAggregate]

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        """Constructs the application's factory, mapper, recorder, event store,
        snapshot store, repository and notification log, in that order."""
        self.env = self.construct_env(env)
        self.factory = self.construct_factory()
        self.mapper = self.construct_mapper()
        self.recorder = self.construct_recorder()
        self.events = self.construct_event_store()
        self.snapshots = self.construct_snapshot_store()
        self.repository = self.construct_repository()
        self.log = self.construct_notification_log()

    def construct_env(self, env: Mapping[str, str] | None = None) -> Mapping[str, str]:
        """Returns the environment that configures the application: the class
        attribute ``env``, overlaid by ``os.environ``, overlaid by ``env`` (an
        :class:`~eventsourcing.persistence.Environment`, whose repr masks
        secrets)."""
        _env = Environment(type(self).env)
        if type(self).is_snapshotting_enabled or type(self).snapshotting_intervals:
            _env["IS_SNAPSHOTTING_ENABLED"] = "y"
        _env.update(os.environ)
        if env is not None:
            _env.update(env)
        return _env

    def construct_factory(self) -> InfrastructureFactory:
        """Returns the infrastructure factory chosen by ``INFRASTRUCTURE_FACTORY``."""
        return InfrastructureFactory.construct(self.name, env=self.env)

    def construct_mapper(self, application_name: str = "") -> Mapper:
        """Returns the mapper that converts domain events to stored events.

        ``application_name`` names the application whose events the mapper is for
        (a follower passes its leader's name), so that variables prefixed with
        that name, such as "BANK_CIPHER_KEY", choose its cipher and compressor.
        """
        return self.factory.mapper(
            transcoder=self.construct_transcoder(),
            application_name=application_name or None,
        )

    def construct_transcoder(self) -> Transcoder:
        """Returns a JSON transcoder with the application's transcodings."""
        transcoder = JSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: Transcoder) -> None:
        """Registers transcodings for UUID, Decimal and datetime objects.

        Extend this method to register transcodings for custom value objects.
        """
        transcoder.register(UUIDAsHex())
        transcoder.register(DecimalAsStr())
        transcoder.register(DatetimeAsISO())

    def construct_recorder(self) -> ApplicationRecorder:
        """Returns the recorder of the application's events and notifications."""
        return self.factory.application_recorder()

    def construct_event_store(self) -> EventStore:
        """Returns the store of the application's aggregate events."""
        return self.factory.event_store(mapper=self.mapper, recorder=self.recorder)

    def construct_snapshot_store(self) -> EventStore | None:
        """Returns a store for snapshots, or ``None`` when snapshotting is off."""
        if not self.factory.is_snapshotting_enabled():
            return None
        recorder = self.factory.aggregate_recorder(purpose="snapshots")
        return self.factory.event_store(mapper=self.mapper, recorder=recorder)

    def construct_repository(self) -> Repository[TAggregate]:
        """Returns the repository that reconstructs the application's aggregates."""
        return Repository(event_store=self.events, snapshot_store=self.snapshots)

    def construct_notification_log(self) -> LocalNotificationLog:
        """Returns the notification log that presents the application's events."""
        return LocalNotificationLog(self.recorder, section_size=self.log_section_size)

    def save(self, *objs: Any, tracking: Tracking | None = None) -> Sequence[Recording]:
        """Records the pending events of the given aggregates atomically (given
        domain events too; ``None`` is skipped), with the ``tracking`` record if
        given, through :meth:`record`.

        All pending events go to the event store in one call, so when any of them
        conflicts with a recorded event, nothing is recorded, the aggregates keep
        their pending events, and a
        :class:`~eventsourcing.persistence.RecordConflictError` is raised that
        says to get the aggregates again and retry. Returns the recordings of the
        events, with their positions in the notification log.
        """
        process_event = ProcessEvent._of(objs, tracking)
        try:
            recordings = self.record(process_event)
        except RecordConflictError as error:
            if process_event.is_recorded:
                raise
            process_event.restore_pending_events()
            msg = (
                f"{self.name} did not save: {error} Another command has changed "
                "an aggregate since it was got from the repository: get it again "
                "and retry the command (eventsourcing.utils.retry can do it)."
            )
            raise RecordConflictError(msg) from error
        except BaseException:
            if not process_event.is_recorded:
                process_event.restore_pending_events()
            raise
        # An override of record() written for 9.1 returns None.
        return [] if recordings is None else recordings

    def record(self, process_event: ProcessEvent) -> Sequence[Recording]:
        """Records the process event's new events, with its tracking record if it
        has one, in one atomic write; then takes any automatic snapshots
        ("snapshotting_intervals") and calls :meth:`notify` with the new events.

        :meth:`save` calls this, and so does a follower for each notification it
        processes; override it to act on every recording.
        """
        recordings = self.events.put(
            process_event.events, tracking=process_event.tracking
        )
        process_event.is_recorded = True
        if self.snapshotting_intervals:
            self.take_automatic_snapshots(
                process_event.aggregates, process_event.events
            )
        self.notify(process_event.events)
        return recordings

    def take_automatic_snapshots(
        self, aggregates: Sequence[Any], new_events: Sequence[Any]
    ) -> None:
        """Takes the snapshots that "snapshotting_intervals" asks for, after
        ``new_events`` of ``aggregates`` were recorded.

        :meth:`~Application.save` calls this; so does a process application when
        it records.

        .. versionadded:: 9.1.0
        """
        if self.snapshots is None:
            # Switched off by configuration ("IS_SNAPSHOTTING_ENABLED").
            return
        first_new_versions: dict[UUID, int] = {}
        for domain_event in new_events:
            first_new_versions.setdefault(
                domain_event.originator_id, domain_event.originator_version
            )
        for aggregate in aggregates:
            interval = self.snapshotting_intervals.get(type(aggregate))
            if not interval or aggregate.id not in first_new_versions:
                continue
            # The highest multiple of the interval among the versions just saved.
            version = aggregate.version - aggregate.version % interval
            if version < first_new_versions[aggregate.id]:
                continue
            if version == aggregate.version:
                # A conflict means an equal snapshot of this version is recorded.
                with contextlib.suppress(RecordConflictError):
                    self.snapshots.put([self.snapshot_class.take(aggregate)])
            else:
                self.take_snapshot(aggregate.id, version=version)

    def notify(self, new_events: list[Any]) -> None:
        """Called after new events have been saved; does nothing here.

        Subclasses can override this to act on newly saved events.
        """

    def close(self) -> None:
        """Closes the application's database connections (through its factory).

        .. versionadded:: 9.1.0
        """
        self.factory.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def take_snapshot(self, aggregate_id: UUID, version: int | None = None) -> None:
        """Takes a snapshot of the recorded state of an aggregate, optionally at
        the given version, and puts it in the snapshot store.

        Taking a snapshot that already exists is not an error.
        """
        if self.snapshots is None:
            msg = (
                f"Snapshotting is not enabled for application {self.name!r}: set "
                '"IS_SNAPSHOTTING_ENABLED" to "y" or the class attribute '
                "is_snapshotting_enabled to True"
            )
            raise ValueError(msg)
        aggregate = self.repository.get(aggregate_id, version=version)
        snapshot = self.snapshot_class.take(aggregate)
        # A conflict means an equal snapshot of this version is already recorded.
        with contextlib.suppress(RecordConflictError):
            self.snapshots.put([snapshot])
