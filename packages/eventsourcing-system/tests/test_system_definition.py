"""Defining systems: pipes of application classes, validated when defined."""

from __future__ import annotations

from typing import Any

import pytest

from eventsourcing.application import Application
from eventsourcing.system import (
    Follower,
    Leader,
    ProcessApplication,
    ProcessEvent,
    System,
)


class Source(Application):
    pass


class Other(Application):
    pass


class Proc(ProcessApplication):
    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        pass


class Proc2(Proc):
    pass


class Sink(Follower):
    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        pass


class LeadingSource(Leader):
    pass


def test_pipe_defines_leaders_followers_and_processors() -> None:
    system = System(pipes=[[Source, Proc, Sink]])

    assert system.nodes == {"Source": Source, "Proc": Proc, "Sink": Sink}
    assert system.edges == [("Source", "Proc"), ("Proc", "Sink")]
    assert system.leads == {"Source": ["Proc"], "Proc": ["Sink"]}
    assert system.follows == {"Proc": ["Source"], "Sink": ["Proc"]}
    assert system.leaders == ["Source", "Proc"]
    assert system.followers == ["Proc", "Sink"]
    assert system.leaders_only == ["Source"]
    assert system.followers_only == ["Sink"]
    assert system.processors == ["Proc"]
    assert system.singles == []


def test_pipes_can_share_applications_and_form_loops() -> None:
    system = System(
        pipes=[[Source, Proc, Proc2, Proc], [Source, Proc], [Other], [Proc2, Sink]]
    )

    assert system.edges == [
        ("Source", "Proc"),
        ("Proc", "Proc2"),
        ("Proc2", "Proc"),
        ("Proc2", "Sink"),
    ]
    assert system.follows == {
        "Proc": ["Source", "Proc2"],
        "Proc2": ["Proc"],
        "Sink": ["Proc2"],
    }
    assert system.leads == {
        "Source": ["Proc"],
        "Proc": ["Proc2"],
        "Proc2": ["Proc", "Sink"],
    }
    assert system.processors == ["Proc", "Proc2"]
    assert system.singles == ["Other"]
    assert system.pipes[2] == [Other]


def test_pipes_may_be_any_iterables() -> None:
    system = System(pipes=iter([(Source, Proc)]))

    assert system.edges == [("Source", "Proc")]


def test_a_following_class_must_be_a_follower() -> None:
    with pytest.raises(
        TypeError, match=r"Other follows Source .* not a follower class"
    ):
        System(pipes=[[Source, Other]])


@pytest.mark.parametrize("item", [object, 42, "Source"])
def test_pipes_must_list_application_classes(item: Any) -> None:
    with pytest.raises(TypeError, match="Not an application class"):
        System(pipes=[[Source, item]])


def test_application_names_must_be_unique() -> None:
    class Source(Application):  # Another class with the same name.
        pass

    with pytest.raises(ValueError, match=r"Two application classes .* 'Source'"):
        System(pipes=[[globals()["Source"], Proc], [Source, Proc]])


def test_applications_are_identified_by_their_name_attribute() -> None:
    class Renamed(Proc):
        name = "renamed"

    system = System(pipes=[[Source, Renamed]])

    assert system.follows == {"renamed": ["Source"]}
    assert system.get_app_cls("renamed") is Renamed


def test_get_app_cls_names_the_applications_when_not_found() -> None:
    system = System(pipes=[[Source, Proc]])

    assert system.get_app_cls("Proc") is Proc
    with pytest.raises(KeyError, match=r"No application named 'Nope'.*Source, Proc"):
        system.get_app_cls("Nope")


def test_leader_cls_makes_a_leader_that_keeps_the_name_of_the_class() -> None:
    class Named(Application):
        name = "custom"

    system = System(pipes=[[Named, Sink], [LeadingSource, Proc, Sink]])

    leader_cls = system.leader_cls("custom")
    assert issubclass(leader_cls, Named)
    assert issubclass(leader_cls, Leader)
    assert leader_cls.name == "custom"
    assert leader_cls.__qualname__ == Named.__qualname__
    assert system.leader_cls("custom") is leader_cls
    assert system.leader_cls("LeadingSource") is LeadingSource
    assert system.leader_cls("Proc") is Proc

    sink_leader = system.leader_cls("Sink")
    assert issubclass(sink_leader, Sink)
    assert issubclass(sink_leader, Leader)
    assert sink_leader.name == "Sink"


def test_follower_and_process_classes_are_checked() -> None:
    system = System(pipes=[[Source, Proc, Sink]])

    assert system.follower_cls("Proc") is Proc
    assert system.follower_cls("Sink") is Sink
    assert system.process_cls("Proc") is Proc
    with pytest.raises(TypeError, match="'Source' is not a follower class"):
        system.follower_cls("Source")
    with pytest.raises(TypeError, match="'Sink' is not a process application"):
        system.process_cls("Sink")


def test_runnable_cls_is_a_leader_only_when_followed() -> None:
    system = System(pipes=[[Source, Proc, Sink], [Other]])

    assert issubclass(system.runnable_cls("Source"), Leader)
    assert system.runnable_cls("Proc") is Proc
    assert system.runnable_cls("Sink") is Sink
    assert system.runnable_cls("Other") is Other
