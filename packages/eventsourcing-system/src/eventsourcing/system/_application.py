"""Leaders, followers and process applications: applications that prompt each
other and process each other's event notifications exactly once."""

from __future__ import annotations

import heapq
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from eventsourcing.application import Application, NotificationLog
from eventsourcing.persistence import IntegrityError, Mapper, ProcessRecorder, Tracking

from ._reader import NotificationLogReader

# Tracking objects are made for every notification processed, without the frozen
# dataclass __init__ (equal and identical in every way to Tracking(...)).


class ProcessEvent:
    """Keeps together a :class:`~eventsourcing.persistence.Tracking` object, the
    position of a notification in a leader's log, and the new domain events that
    result from processing that notification."""

    def __init__(self, tracking: Tracking | None = None) -> None:
        """Initialises the process event with the given tracking object."""
        self.tracking = tracking
        self.events: list[Any] = []
        self.aggregates: list[Any] = []

    def save(self, *aggregates: Any) -> None:
        """Collects the pending domain events of the given aggregates.

        ``events`` keeps the order in which the events were triggered across all
        aggregates saved so far (by timestamp), and each aggregate's own events
        always stay in version order.
        """
        by_originator: dict[Any, list[Any]] = {}
        for event in self.events:
            by_originator.setdefault(event.originator_id, []).append(event)
        for aggregate in aggregates:
            if not any(saved is aggregate for saved in self.aggregates):
                self.aggregates.append(aggregate)
            for event in aggregate.collect_events():
                by_originator.setdefault(event.originator_id, []).append(event)
        # heapq.merge consumes each list in its own order, so a clock that steps
        # backwards can never reorder the versions of one aggregate.
        self.events = list(
            heapq.merge(*by_originator.values(), key=lambda e: e.timestamp)
        )


class Promptable(ABC):
    """Abstract base class for "promptable" objects."""

    @abstractmethod
    def receive_prompt(self, leader_name: str) -> None:
        """Receives the name of a leader that has new domain event notifications."""


class Leader(Application):
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


class Follower(Application, Promptable):
    """An application that follows the notification logs of other applications and
    processes their domain events with its :meth:`policy`, recording the results
    atomically with the position of each notification, so that each notification
    is processed exactly once even across restarts.

    ``pull_section_size`` is the number of notifications pulled from a log at a
    time.
    """

    recorder: ProcessRecorder
    pull_section_size: int = 100

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self.readers: dict[str, tuple[NotificationLogReader, Mapper]] = {}
        # The last recorded position in each followed log, so that a prompt costs
        # no query of the tracking table. Absent means "ask the recorder".
        self._positions: dict[str, int] = {}
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
        self._positions.pop(name, None)

    def receive_prompt(self, leader_name: str) -> None:
        """Pulls and processes the new notifications of the prompting leader."""
        self.pull_and_process(leader_name)

    def pull_and_process(self, name: str) -> None:
        """Pulls the unseen notifications of the named application and processes
        each one: the notification becomes a domain event, :meth:`policy` is
        called with it and a new :class:`ProcessEvent` tracking its position,
        and the process event is recorded with :meth:`record`.

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
        with self._pull_lock:
            if name in self._pulling:
                self._pull_again.add(name)
                return
            self._pulling.add(name)
            try:
                again = True
                while again:
                    self._pull_again.discard(name)
                    self._pull(name, reader, mapper)
                    again = name in self._pull_again
            except BaseException:
                # Whatever was or was not recorded, ask the recorder next time.
                self._positions.pop(name, None)
                raise
            finally:
                self._pulling.discard(name)
                self._pull_again.discard(name)

    def _pull(self, name: str, reader: NotificationLogReader, mapper: Mapper) -> None:
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
                    if positions.get(name, 0) >= notification_id:
                        raise  # recorded: the error came after (e.g. from notify())
                    recorded = self.recorder.max_tracking_id(name)
                    if recorded < notification_id:
                        raise  # a conflict of the new events, not of the position
                    # Processed elsewhere: skip what the recorder has.
                    positions[name] = recorded
                    break
                positions[name] = notification_id
            else:
                return

    @abstractmethod
    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        """Processes a domain event of a followed application.

        Implementations must save changed aggregates with ``process_event.save()``
        (not the application's :meth:`~eventsourcing.application.Application.save`)
        so that the new events are recorded atomically with the position of the
        domain event's notification.
        """

    def record(self, process_event: ProcessEvent) -> None:
        """Records the process event's new events and its tracking record in one
        atomic write, takes any automatic snapshots ("snapshotting_intervals"), then
        calls :meth:`~eventsourcing.application.Application.notify` with the new
        events."""
        tracking = process_event.tracking
        if tracking is None:
            self.events.put(process_event.events)
        else:
            self.events.put(process_event.events, tracking=tracking)
            name = tracking.application_name
            if self._positions.get(name, tracking.notification_id) < (
                tracking.notification_id
            ):
                self._positions[name] = tracking.notification_id
        if self.snapshotting_intervals:
            self.take_automatic_snapshots(
                process_event.aggregates, process_event.events
            )
        self.notify(process_event.events)


class ProcessApplication(Leader, Follower, ABC):
    """Base class for event processing applications that are both leaders and
    followers."""
