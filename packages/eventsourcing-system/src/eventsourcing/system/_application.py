"""Leaders, followers and process applications: applications that prompt each
other and process each other's event notifications exactly once."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from eventsourcing.application import Application, NotificationLog, ProcessEvent
from eventsourcing.persistence import IntegrityError, Mapper, ProcessRecorder, Tracking

from ._reader import NotificationLogReader

if TYPE_CHECKING:
    from typing_extensions import TypeVar

    from eventsourcing.domain import Aggregate

    TAggregate = TypeVar("TAggregate", bound=Aggregate, default=Any)
else:
    from typing import TypeVar

    TAggregate = TypeVar("TAggregate")

logger = logging.getLogger("eventsourcing.system")


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
        called with it and a new :class:`~eventsourcing.application.ProcessEvent`
        tracking its position, and the process event is recorded with
        :meth:`~eventsourcing.application.Application.record`.

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
                    if process_event.is_recorded:
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


class ProcessApplication(Leader[TAggregate], Follower[TAggregate], ABC):
    """Base class for event processing applications that are both leaders and
    followers."""
