"""The ``Page`` and ``Index`` aggregates in declarative style (section 1.4.9, "The
Page and Index aggregates revisited")."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


@dataclass
class Page(Aggregate):
    name: str
    body: str = ""

    @event("NameUpdated")
    def update_name(self, name: str) -> None:
        self.name = name


@dataclass
class Index(Aggregate):
    name: str
    ref: UUID | None

    @staticmethod
    def create_id(name: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/pages/{name}")

    @event("RefUpdated")
    def update_ref(self, ref: UUID | None) -> None:
        self.ref = ref
