"""The ``Worlds`` application (section 1.5.3): command methods that create and change
``World`` aggregates, and a query method that presents a world's history."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import Application

from . import declarative
from .domainmodel import World


class Worlds(Application):
    def create_world(self) -> UUID:
        world = World.create()
        self.save(world)
        return world.id

    def make_it_so(self, world_id: UUID, what: str) -> None:
        world = self.repository.get(world_id)
        world.make_it_so(what)
        self.save(world)

    def get_world_history(self, world_id: UUID) -> list[str]:
        world = self.repository.get(world_id)
        return list(world.history)


class DeclarativeWorlds(Worlds):
    """The same application, with the ``World`` aggregate in declarative style."""

    def create_world(self) -> UUID:
        world = declarative.World()
        self.save(world)
        return world.id


class WorldsWithAutomaticSnapshotting(Worlds):
    """Takes a snapshot of each world at every second version (section 1.5.6)."""

    snapshotting_intervals = {World: 2}
