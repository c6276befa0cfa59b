"""Tests of the Worlds example: the documented scenarios of sections 1.5.3 to 1.5.6,
for both styles of the ``World`` aggregate, on each backend."""

from __future__ import annotations

import pytest

from eventsourcing.application import AggregateNotFound
from eventsourcing.persistence import Notification
from examples.worlds import declarative, domainmodel
from examples.worlds.application import (
    DeclarativeWorlds,
    Worlds,
    WorldsWithAutomaticSnapshotting,
)


@pytest.fixture(params=[Worlds, DeclarativeWorlds], ids=["explicit", "declarative"])
def worlds_class(request: pytest.FixtureRequest) -> type[Worlds]:
    cls: type[Worlds] = request.param
    return cls


def make_app(cls: type[Worlds] = Worlds, **env: str) -> Worlds:
    return cls(env=env)


def test_basic_example(worlds_class: type[Worlds], env: dict[str, str]) -> None:
    application = make_app(worlds_class, **env)

    world_id = application.create_world()

    application.make_it_so(world_id, "dinosaurs")
    application.make_it_so(world_id, "trucks")
    application.make_it_so(world_id, "internet")

    history = application.get_world_history(world_id)
    assert history[0] == "dinosaurs"
    assert history[1] == "trucks"
    assert history[2] == "internet"

    # Repository: each version of the aggregate, and the last one beyond it.
    for version, expected in enumerate(
        [[], ["dinosaurs"], ["dinosaurs", "trucks"], history], start=1
    ):
        world = application.repository.get(world_id, version=version)
        assert world.version == version
        assert world.history == expected
    assert application.repository.get(world_id, version=5).version == 4
    with pytest.raises(AggregateNotFound):
        application.repository.get(world_id, version=0)

    # Notification log.
    section = application.log["1,10"]
    assert section.id == "1,4"
    assert section.next_id is None
    assert all(isinstance(item, Notification) for item in section.items)
    assert [item.originator_version for item in section.items] == [1, 2, 3, 4]
    assert "World.Created" in section.items[0].topic
    assert "World.SomethingHappened" in section.items[3].topic
    domain_event = application.mapper.to_domain_event(section.items[3])
    assert domain_event.originator_id == world_id


def test_each_style_records_its_own_event_classes(env: dict[str, str]) -> None:
    explicit = make_app(Worlds, **env)
    explicit_world = explicit.repository.get(explicit.create_world())
    assert type(explicit_world) is domainmodel.World

    declarative_app = make_app(DeclarativeWorlds, **env)
    declarative_world = declarative_app.repository.get(declarative_app.create_world())
    assert type(declarative_world) is declarative.World


def test_snapshots(worlds_class: type[Worlds], env: dict[str, str]) -> None:
    application = make_app(worlds_class, IS_SNAPSHOTTING_ENABLED="y", **env)
    world_id = application.create_world()
    application.make_it_so(world_id, "dinosaurs")
    application.make_it_so(world_id, "trucks")
    application.take_snapshot(world_id)
    application.make_it_so(world_id, "internet")

    assert application.snapshots is not None
    snapshots = list(application.snapshots.get(world_id, desc=True, limit=1))
    assert len(snapshots) == 1
    assert snapshots[0].originator_version == 3

    # The repository starts from the snapshot and replays the event after it.
    world = application.repository.get(world_id)
    assert world.version == 4
    assert world.history == ["dinosaurs", "trucks", "internet"]


def test_automatic_snapshotting(env: dict[str, str]) -> None:
    application = make_app(WorldsWithAutomaticSnapshotting, **env)

    world_id = application.create_world()

    application.make_it_so(world_id, "dinosaurs")
    application.make_it_so(world_id, "trucks")
    application.make_it_so(world_id, "internet")

    assert application.snapshots is not None
    snapshots = list(application.snapshots.get(world_id))
    assert [s.originator_version for s in snapshots] == [2, 4]
    assert all(s.originator_id == world_id for s in snapshots)
