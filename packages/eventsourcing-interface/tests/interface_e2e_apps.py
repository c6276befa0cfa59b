"""Applications for the end-to-end test, each run in its own process: ``leader``
serves a Worlds application's notification log over HTTP, and ``follower``
processes that log with a Counters process application recorded in SQLite."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFound, Application
from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent
from eventsourcing.interface import (
    HTTPNotificationLogInterface,
    NotificationLogJSONClient,
    NotificationLogJSONService,
    make_notification_log_server,
)
from eventsourcing.system import ProcessApplication, ProcessEvent

WORDS = ["dinosaurs", "trucks", "internet"]


class World(Aggregate):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.history: list[str] = []

    @classmethod
    def create(cls) -> World:
        world: World = cls._create(event_class=cls.Created, id=uuid4())
        return world

    class Created(AggregateCreated["World"]):
        pass

    def make_it_so(self, what: str) -> None:
        self.trigger_event(self.SomethingHappened, what=what)

    class SomethingHappened(AggregateEvent["World"]):
        what: str

        def apply(self, world: World) -> None:
            world.history.append(self.what)


class Counter(Aggregate):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.count = 0

    @classmethod
    def create_id(cls, name: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/counters/{name}/")

    @classmethod
    def create(cls, name: str) -> Counter:
        counter: Counter = cls._create(event_class=cls.Created, id=cls.create_id(name))
        return counter

    class Created(AggregateCreated["Counter"]):
        pass

    def increment(self) -> None:
        self.trigger_event(self.Incremented)

    class Incremented(AggregateEvent["Counter"]):
        def apply(self, counter: Counter) -> None:
            counter.count += 1


class Worlds(Application):
    pass


class Counters(ProcessApplication):
    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        if isinstance(domain_event, World.SomethingHappened):
            counter_id = Counter.create_id(domain_event.what)
            try:
                counter: Counter = self.repository.get(counter_id)
            except AggregateNotFound:
                counter = Counter.create(domain_event.what)
            counter.increment()
            process_event.save(counter)

    def get_count(self, what: str) -> int:
        try:
            counter: Counter = self.repository.get(Counter.create_id(what))
        except AggregateNotFound:
            return 0
        return counter.count


def leader(token: str) -> None:
    """Serves the log; each stdin line "make N" makes N changes to a new world and
    answers with the log's last notification ID and the counts so far."""
    app = Worlds(env={"INFRASTRUCTURE_FACTORY": "popo"})
    server = make_notification_log_server(
        NotificationLogJSONService(app), "127.0.0.1", 0, token=token
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(f"PORT {server.server_port}", flush=True)
    counts = dict.fromkeys(WORDS, 0)
    changes = 0
    for line in sys.stdin:
        world = World.create()
        for _ in range(int(line.split()[1])):
            what = WORDS[changes % len(WORDS)]
            world.make_it_so(what)
            app.save(world)
            counts[what] += 1
            changes += 1
        app.save(world)
        result = {"max_id": app.recorder.max_notification_id(), "counts": counts}
        print(json.dumps(result), flush=True)
    server.shutdown()
    server.server_close()


def follower(url: str, token: str, db: str, target: int, crash_after: int) -> None:
    """Processes the leader's log until the target notification, or crashes (exits
    without any clean-up) after recording ``crash_after`` results, between the
    policy and the recording of the next one; then prints its state."""
    counters = Counters(env={"INFRASTRUCTURE_FACTORY": "sqlite", "SQLITE_DBNAME": db})
    log = NotificationLogJSONClient(HTTPNotificationLogInterface(url, token=token))
    counters.follow("Worlds", log)
    if crash_after >= 0:
        record = counters.record
        recorded = 0

        def crashing_record(process_event: ProcessEvent) -> None:
            nonlocal recorded
            if recorded == crash_after:
                os._exit(3)
            record(process_event)
            recorded += 1

        setattr(counters, "record", crashing_record)  # noqa: B010
    while counters.recorder.max_tracking_id("Worlds") < target:
        counters.pull_and_process("Worlds")
        time.sleep(0.01)
    state = {
        "position": counters.recorder.max_tracking_id("Worlds"),
        "counts": {what: counters.get_count(what) for what in WORDS},
        "notifications": counters.recorder.max_notification_id(),
    }
    print(json.dumps(state), flush=True)


def main(argv: list[str]) -> None:
    if argv[0] == "leader":
        leader(argv[1])
    else:
        url, token, db, target, crash_after = argv[1:]
        follower(url, token, db, int(target), int(crash_after))


if __name__ == "__main__":
    # Import this file by its module name, so that the topics of its classes are
    # the same in every process.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import interface_e2e_apps

    interface_e2e_apps.main(sys.argv[1:])
