"""Subscriptions: an application's events from a position onwards, as they are
committed, optionally of some topics only, stopped cleanly from another thread."""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import pytest

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import ConfigurationError, Tracking
from eventsourcing.projection import ApplicationSubscription
from eventsourcing.utils import get_topic


class Dog(Aggregate):
    @event("Registered")
    def __init__(self, name: str) -> None:
        self.name = name
        self.tricks: list[str] = []

    @event("TrickAdded")
    def add_trick(self, trick: str) -> None:
        self.tricks.append(trick)

    @event("Walked")
    def walk(self) -> None:
        pass


class Kennel(Application):
    def register(self, name: str, *tricks: str) -> Dog:
        dog = Dog(name)
        for trick in tricks:
            dog.add_trick(trick)
        self.save(dog)
        return dog


Registered: Any = Dog.Registered  # type: ignore[attr-defined]  # made by @event
TrickAdded: Any = Dog.TrickAdded  # type: ignore[attr-defined]  # made by @event
Walked: Any = Dog.Walked  # type: ignore[attr-defined]  # made by @event


def take(subscription: ApplicationSubscription, n: int) -> list[tuple[Any, Tracking]]:
    return [next(subscription) for _ in range(n)]


def test_yields_each_event_with_its_tracking_from_the_start() -> None:
    app = Kennel()
    fido = app.register("Fido", "roll over")
    with ApplicationSubscription(app) as subscription:
        (registered, t1), (trick, t2) = take(subscription, 2)
    assert isinstance(registered, Registered)
    assert registered.originator_id == fido.id
    assert isinstance(trick, TrickAdded)
    assert trick.trick == "roll over"
    assert (t1, t2) == (Tracking("Kennel", 1), Tracking("Kennel", 2))
    assert subscription.is_stopped


def test_starts_after_the_position_given() -> None:
    app = Kennel()
    app.register("Fido", "sit", "stay")
    with ApplicationSubscription(app, gt=2) as subscription:
        assert [t.notification_id for _, t in take(subscription, 1)] == [3]


def test_waits_for_a_commit_and_yields_it_at_once() -> None:
    app = Kennel()
    with ApplicationSubscription(app, poll_interval=30) as subscription:
        timer = threading.Timer(0.05, lambda: app.register("Rex"))
        started = time.monotonic()
        timer.start()
        ((event, tracking),) = take(subscription, 1)
        waited = time.monotonic() - started
    timer.join()
    assert isinstance(event, Registered)
    assert tracking.notification_id == 1
    assert waited < 5  # woken by the commit, not by the poll interval


def test_a_commit_that_does_not_wake_it_is_seen_by_polling() -> None:
    app = Kennel()
    with ApplicationSubscription(app, poll_interval=0.05) as subscription:
        # Written by the backend directly, as another process would: no wake-up.
        stored = app.mapper.from_domain_event(Dog("Quiet").collect_events()[0])
        threading.Timer(
            0.02, lambda: app.recorder._insert_events([stored], None)
        ).start()
        ((event, _),) = take(subscription, 1)
    assert event.name == "Quiet"


def test_stop_from_another_thread_ends_a_waiting_iteration() -> None:
    app = Kennel()
    subscription = ApplicationSubscription(app, poll_interval=30)
    seen: list[Any] = []
    reader = threading.Thread(target=lambda: seen.extend(subscription))
    reader.start()
    time.sleep(0.05)
    started = time.monotonic()
    subscription.stop()
    reader.join(5)
    assert not reader.is_alive()
    assert time.monotonic() - started < 5
    assert seen == []
    assert subscription.wait() is False  # stopped: no more waiting
    subscription.close()


def test_topics_select_events_of_those_classes_or_topics_only() -> None:
    app = Kennel()
    fido = app.register("Fido", "sit")
    fido.walk()
    fido.add_trick("beg")
    app.save(fido)
    by_class = ApplicationSubscription(app, topics=[TrickAdded])
    by_topic = ApplicationSubscription(app, topics=[get_topic(TrickAdded), Walked])
    assert by_class.topics == (get_topic(TrickAdded),)
    assert [e.trick for e, _ in take(by_class, 2)] == ["sit", "beg"]
    assert [type(e) for e, _ in take(by_topic, 3)] == [TrickAdded, Walked, TrickAdded]
    assert "topics=" in repr(by_class)
    assert repr(ApplicationSubscription(app, gt=1)) == (
        "ApplicationSubscription('Kennel', gt=1)"
    )
    assert ApplicationSubscription(app, topics=Walked).topics == (get_topic(Walked),)


def test_a_page_reaches_past_notifications_of_other_topics() -> None:
    app = Kennel()
    app.register("Fido", "sit", "stay")  # notifications 1, 2, 3
    app.register("Rex")  # notification 4
    subscription = ApplicationSubscription(app, topics=[TrickAdded], page_size=1)
    page, position, caught_up = subscription.read_page()
    assert [t.notification_id for _, t in page] == [2]
    assert (position, caught_up) == (2, False)
    page, position, caught_up = subscription.read_page()
    assert [t.notification_id for _, t in page] == [3]
    assert (position, caught_up) == (3, False)
    # Nothing more of its topics: the position reaches the log's last notification.
    assert subscription.read_page() == ([], 4, True)
    assert subscription.position == 4
    subscription.seek(1)
    assert subscription.read_page()[1] == 2


def test_without_topics_a_page_reaches_its_last_notification() -> None:
    app = Kennel()
    app.register("Fido", "sit")
    subscription = ApplicationSubscription(app, page_size=5)
    page, position, caught_up = subscription.read_page()
    assert (len(page), position, caught_up) == (2, 2, True)
    assert subscription.read_page() == ([], 2, True)


@pytest.mark.parametrize("gt", [-1, "1", True, 1.0])
def test_a_bad_position_is_refused(gt: Any) -> None:
    with pytest.raises(ValueError, match="Invalid position gt="):
        ApplicationSubscription(Kennel(), gt=gt)


@pytest.mark.parametrize("page_size", [0, -5, 2.5])
def test_a_bad_page_size_is_refused(page_size: Any) -> None:
    with pytest.raises(ValueError, match="Invalid page size"):
        ApplicationSubscription(Kennel(), page_size=page_size)


@pytest.mark.parametrize("interval", [0, -1, math.nan, math.inf])
def test_a_bad_poll_interval_is_refused(interval: float) -> None:
    with pytest.raises(ValueError, match="Invalid poll interval"):
        ApplicationSubscription(Kennel(), poll_interval=interval)


@pytest.mark.parametrize("topic", [42, "no colon", None])
def test_a_bad_topic_is_refused(topic: Any) -> None:
    with pytest.raises(TypeError, match="Invalid topic"):
        ApplicationSubscription(Kennel(), topics=[topic])


def test_the_poll_interval_comes_from_the_environment() -> None:
    assert ApplicationSubscription(Kennel()).poll_interval == 0.1
    app = Kennel(env={"SUBSCRIPTION_POLL_INTERVAL": "2.5"})
    assert ApplicationSubscription(app).poll_interval == 2.5
    app = Kennel(env={"KENNEL_SUBSCRIPTION_POLL_INTERVAL": "0.5"})
    assert ApplicationSubscription(app).poll_interval == 0.5
    assert ApplicationSubscription(app, poll_interval=3).poll_interval == 3
    for value in ("soon", "0", "-1", "nan"):
        app = Kennel(env={"SUBSCRIPTION_POLL_INTERVAL": value})
        with pytest.raises(ConfigurationError, match="SUBSCRIPTION_POLL_INTERVAL="):
            ApplicationSubscription(app)


def test_the_module_reports_its_version_and_its_classes_their_module() -> None:
    import eventsourcing.projection

    assert eventsourcing.projection.__version__.count(".") >= 2
    assert ApplicationSubscription.__module__ == "eventsourcing.projection"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        eventsourcing.projection.nope  # type: ignore[attr-defined]  # the point
