"""The ``Page`` and ``Index`` aggregates in explicit style (section 1.4.8): an index
has a version 5 UUID made from a page name, and refers to the page's ID."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent


class Page(Aggregate):
    def __init__(self, name: str, body: str) -> None:
        self.name = name
        self.body = body

    @classmethod
    def create(cls, name: str, body: str = "") -> Page:
        return cls._create(id=uuid4(), event_class=cls.Created, name=name, body=body)

    class Created(AggregateCreated["Page"]):
        name: str
        body: str

    def update_name(self, name: str) -> None:
        self.trigger_event(self.NameUpdated, name=name)

    class NameUpdated(AggregateEvent["Page"]):
        name: str

        def apply(self, page: Page) -> None:
            page.name = self.name


class Index(Aggregate):
    def __init__(self, name: str, ref: UUID) -> None:
        self.name = name
        self.ref: UUID | None = ref

    @classmethod
    def create(cls, page: Page) -> Index:
        return cls._create(
            event_class=cls.Created,
            id=cls.create_id(page.name),
            name=page.name,
            ref=page.id,
        )

    @staticmethod
    def create_id(name: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"/pages/{name}")

    class Created(AggregateCreated["Index"]):
        name: str
        ref: UUID

    def update_ref(self, ref: UUID | None) -> None:
        self.trigger_event(self.RefUpdated, ref=ref)

    class RefUpdated(AggregateEvent["Index"]):
        ref: UUID | None

        def apply(self, index: Index) -> None:
            index.ref = self.ref
