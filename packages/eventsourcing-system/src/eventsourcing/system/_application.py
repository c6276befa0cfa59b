"""Leaders, followers and process applications: applications that prompt each
other and process each other's event notifications exactly once."""

from __future__ import annotations

import contextlib
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from eventsourcing.application import Application, NotificationLog, ProcessEvent
from eventsourcing.persistence import (
    IntegrityError,
    Mapper,
    ProcessRecorder,
    RecordConflictError,
    Tracking,
)

from ._partitions import (
    PARTITIONS,
    PartitionsChanged,
    decode_layout,
    encode_layout,
    layout_name,
    partition_of,
    read_partitions,
    tracking_name,
)
from ._reader import NotificationLogReader

if TYPE_CHECKING:
    from uuid import UUID

    from typing_extensions import TypeVar

    from eventsourcing.domain import Aggregate

    TAggregate = TypeVar("TAggregate", bound=Aggregate, default=Any)
else:
    from typing import TypeVar

    TAggregate = TypeVar("TAggregate")

logger = logging.getLogger("eventsourcing.system")


class StopSignal(Protocol):
    """What tells a pull to return after the notification in hand (a
    :class:`threading.Event`, for example).

    .. versionadded:: 9.1.0
    """

    def is_set(self) -> bool: ...


class Promptable(ABC):
    """Abstract base class for "promptable" objects."""

    @abstractmethod
    def receive_prompt(self, leader_name: str) -> None:
        """Receives the name of a leader that has new domain event notifications."""


class Leader(Application[TAggregate]):
    """An application that keeps track of its followers and prompts them whenever
    it has saved new domain events."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self.followers: list[Promptable] = []

    def lead(self, follower: Promptable) -> None:
        """Adds the given follower to the list of followers."""
        self.followers.append(follower)

    def notify(self, new_events: list[Any]) -> None:
        """Extends :meth:`eventsourcing.application.Application.notify` by
        prompting followers whenever new events have just been saved."""
        super().notify(new_events)
        if new_events:
            self.prompt_followers()

    def prompt_followers(self) -> None:
        """Prompts each follower with the name of this application."""
        for follower in list(self.followers):
            follower.receive_prompt(self.name)


class Follower(Application[TAggregate], Promptable):
    """An application that follows the notification logs of other applications and
    processes their domain events with its :meth:`policy`, recording the results
    atomically with the position of each notification, so that each notification
    is processed exactly once even across restarts.

    ``pull_section_size`` is the number of notifications pulled from a log at a
    time. ``partitions`` splits the processing of each followed log into that
    many partitions (the "PARTITIONS" setting wins), so that workers can share
    it (see :class:`Worker`): each aggregate's events are processed in log
    order by one partition, chosen by :meth:`partition_of`.
    """

    recorder: ProcessRecorder
    pull_section_size: int = 100
    partitions: int = 1

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self.partitions = read_partitions(
            self.env,
            self.name,
            self.factory.getenv(PARTITIONS),
            type(self).partitions,
        )
        self.readers: dict[str, tuple[NotificationLogReader, Mapper]] = {}
        # The last recorded position in each followed log (each partition's,
        # by tracking name), so that a prompt costs no query of the tracking
        # table. Absent means "ask the recorder".
        self._positions: dict[str, int] = {}
        # Leaders whose number of partitions was checked since follow().
        self._checked: set[str] = set()
        self._pull_lock = threading.RLock()
        self._pulling: set[str] = set()
        self._pull_again: set[str] = set()

    def construct_recorder(self) -> ProcessRecorder:
        """Returns a process recorder, which records tracking records atomically
        with new events."""
        return self.factory.process_recorder()

    def follow(self, name: str, log: NotificationLog) -> None:
        """Follows the named application's notification log, with a reader for the
        log and a mapper that turns its notifications into domain events."""
        reader = NotificationLogReader(log, section_size=self.pull_section_size)
        mapper = self.construct_mapper(name)
        self.readers[name] = (reader, mapper)
        # Read from the recorder on the next pull.
        self.forget_positions(name)
        self._checked.discard(name)

    def partition_of(self, originator_id: UUID) -> int:
        """The partition that processes the events of the aggregate
        ``originator_id`` (a stable hash of it, modulo ``partitions``).

        .. versionadded:: 9.1.0
        """
        return partition_of(originator_id, self.partitions)

    def tracking_name(self, leader_name: str, partition: int = 0) -> str:
        """The name of a partition's positions in the leader's log, in the
        tracking records: with one partition, the leader's name.

        .. versionadded:: 9.1.0
        """
        return tracking_name(leader_name, partition, self.partitions)

    def forget_positions(
        self, leader_name: str, partitions: Iterable[int] | None = None
    ) -> None:
        """Forgets the positions in the leader's log kept in memory (of the given
        partitions, or all), so that the next pull reads them from the recorder:
        a worker does so when it takes over partitions.

        .. versionadded:: 9.1.0
        """
        for partition in range(self.partitions) if partitions is None else partitions:
            self._positions.pop(self.tracking_name(leader_name, partition), None)

    def recorded_partitions(self, leader_name: str) -> int | None:
        """The number of partitions the positions in the leader's log were
        recorded with, or ``None`` when none was recorded.

        .. versionadded:: 9.1.0
        """
        return self._recorded_partitions(leader_name)[0]

    def _recorded_partitions(self, leader_name: str) -> tuple[int | None, int | None]:
        """The recorded number of partitions, and the position recorded under the
        leader's own name when it was read (with one partition, the position)."""
        layout = self.recorder.max_tracking_id(layout_name(leader_name))
        if layout:
            return decode_layout(layout)[1], None
        position = self.recorder.max_tracking_id(leader_name)
        return (1 if position else None), position

    def check_partitions(self, leader_name: str) -> None:
        """Refuses, with :class:`PartitionsChanged`, to process the leader's log
        with a number of partitions other than the one its positions were
        recorded with; records the number when it is the first and not one.

        Pulling checks once after each :meth:`follow`; workers check before they
        start, holding a lease, so that two numbers cannot both be recorded.

        .. versionadded:: 9.1.0
        """
        recorded, position = self._recorded_partitions(leader_name)
        if self.partitions == 1 and position is not None:
            # The position itself, read already: pulling need not ask again.
            self._positions.setdefault(leader_name, position)
        if recorded is None and self.partitions > 1:
            layout = Tracking(
                layout_name(leader_name), encode_layout(0, self.partitions)
            )
            with contextlib.suppress(RecordConflictError):
                self.recorder.insert_events([], tracking=layout)
            recorded = self.recorded_partitions(leader_name)
        if recorded not in (None, self.partitions):
            setting = f"{self.name.upper()}_{PARTITIONS}"
            msg = (
                f"{self.name} is configured with {self.partitions} partition"
                f"{'s' if self.partitions > 1 else ''} ({setting} or the class "
                f"attribute partitions), but its positions in {leader_name}'s "
                f"log were recorded with {recorded}. Set {setting}={recorded} to "
                "go on as before, or stop every worker of "
                f"{self.name} and run 'python -m eventsourcing.system "
                f"repartition SYSTEM --app {self.name} --partitions "
                f"{self.partitions}' to change the number."
            )
            raise PartitionsChanged(msg)
        self._checked.add(leader_name)

    def receive_prompt(self, leader_name: str) -> None:
        """Pulls and processes the new notifications of the prompting leader."""
        self.pull_and_process(leader_name)

    def pull_and_process(
        self,
        name: str,
        partitions: Iterable[int] | None = None,
        *,
        stop: StopSignal | None = None,
    ) -> None:
        """Pulls the unseen notifications of the named application and processes
        each one: the notification becomes a domain event, :meth:`policy` is
        called with it and a new :class:`~eventsourcing.application.ProcessEvent`
        tracking its position, and the process event is recorded with
        :meth:`~eventsourcing.application.Application.record`.

        Only the notifications of the given ``partitions`` are processed (by
        default, of every partition). When ``stop`` is set, it returns after the
        notification in hand is recorded.

        Calls from one thread are serialised; a call made while the same log is
        already being processed by this thread (a prompt arriving through a loop of
        applications) is remembered and served when the current pass ends.
        """
        try:
            reader, mapper = self.readers[name]
        except KeyError:
            msg = (
                f"Application {self.name!r} does not follow {name!r}: call "
                f"follow({name!r}, log) first (following: {sorted(self.readers)})"
            )
            raise ValueError(msg) from None
        selected = (
            list(range(self.partitions))
            if partitions is None
            else sorted(set(partitions))
        )
        with self._pull_lock:
            if name in self._pulling:
                self._pull_again.add(name)
                return
            self._pulling.add(name)
            try:
                if name not in self._checked:
                    self.check_partitions(name)
                again = True
                while again:
                    self._pull_again.discard(name)
                    if self.partitions == 1:
                        self._pull(name, reader, mapper, stop)
                    elif selected:
                        self._pull_partitions(name, reader, mapper, selected, stop)
                    again = name in self._pull_again
            except BaseException:
                # Whatever was or was not recorded, ask the recorder next time.
                self.forget_positions(name)
                raise
            finally:
                self._pulling.discard(name)
                self._pull_again.discard(name)

    def _pull(
        self,
        name: str,
        reader: NotificationLogReader,
        mapper: Mapper,
        stop: StopSignal | None,
    ) -> None:
        """Processes the notifications after the last recorded position.

        The position is kept in memory between pulls. Another instance of this
        follower (in another process, on the same database) may have processed
        some of them since: recording one again conflicts with its tracking
        record, and then the results are discarded and pulling resumes after the
        position that the recorder has.
        """
        positions = self._positions
        policy = self.policy
        record = self.record
        to_domain_event = mapper.to_domain_event
        while True:
            position = positions.get(name)
            if position is None:
                position = positions[name] = self.recorder.max_tracking_id(name)
            for notification in reader.select(start=position + 1):
                notification_id = notification.id
                process_event = ProcessEvent(Tracking(name, notification_id))
                policy(to_domain_event(notification), process_event)
                try:
                    record(process_event)
                except IntegrityError:
                    if process_event.is_recorded:
                        raise  # recorded: the error came after (e.g. from notify())
                    recorded = self.recorder.max_tracking_id(name)
                    if recorded < notification_id:
                        raise  # a conflict of the new events, not of the position
                    # Processed elsewhere: skip what the recorder has.
                    positions[name] = recorded
                    break
                positions[name] = notification_id
                if stop is not None and stop.is_set():
                    return
            else:
                return

    def _pull_partitions(
        self,
        name: str,
        reader: NotificationLogReader,
        mapper: Mapper,
        selected: list[int],
        stop: StopSignal | None,
    ) -> None:
        """Processes the notifications of the selected partitions after each
        one's position, reading the log once from the lowest of them.

        A partition's recorded position is the last notification it processed;
        in memory, it moves on to the last notification read, since every one
        of its notifications up to there was processed.
        """
        positions = self._positions
        policy = self.policy
        record = self.record
        to_domain_event = mapper.to_domain_event
        partitions = self.partitions
        names = [self.tracking_name(name, p) for p in range(partitions)]
        wanted = set(selected)
        while True:
            for partition in selected:
                if names[partition] not in positions:
                    positions[names[partition]] = self.recorder.max_tracking_id(
                        names[partition]
                    )
            lowest = last = min(positions[names[p]] for p in selected)
            for notification in reader.select(start=lowest + 1):
                notification_id = last = notification.id
                partition = partition_of(notification.originator_id, partitions)
                if partition not in wanted:
                    continue
                name_p = names[partition]
                if notification_id <= positions[name_p]:
                    continue
                process_event = ProcessEvent(Tracking(name_p, notification_id))
                policy(to_domain_event(notification), process_event)
                try:
                    record(process_event)
                except IntegrityError:
                    if process_event.is_recorded:
                        raise
                    recorded = self.recorder.max_tracking_id(name_p)
                    if recorded < notification_id:
                        raise
                    positions[name_p] = recorded
                    break
                positions[name_p] = notification_id
                if stop is not None and stop.is_set():
                    return
            else:
                for partition in selected:
                    if positions[names[partition]] < last:
                        positions[names[partition]] = last
                return

    def position(self, leader_name: str) -> int:
        """The notification ID up to which the leader's log is processed by every
        partition (that this instance knows of): with one partition, the
        recorded position.

        .. versionadded:: 9.1.0
        """
        if self.partitions == 1:
            return self.recorder.max_tracking_id(leader_name)
        return min(
            max(
                self.recorder.max_tracking_id(self.tracking_name(leader_name, p)),
                self._positions.get(self.tracking_name(leader_name, p), 0),
            )
            for p in range(self.partitions)
        )

    @abstractmethod
    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        """Processes a domain event of a followed application.

        Implementations must save changed aggregates with ``process_event.save()``
        (not the application's :meth:`~eventsourcing.application.Application.save`)
        so that the new events are recorded atomically with the position of the
        domain event's notification.
        """


class ProcessApplication(Leader[TAggregate], Follower[TAggregate], ABC):
    """Base class for event processing applications that are both leaders and
    followers."""
