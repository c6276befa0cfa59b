"""The applications: the school, and a follower that counts the tricks taught."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.system import ProcessApplication, ProcessEvent
from examples.dogschool.domainmodel import Dog, TrickCount


@dataclass(frozen=True)
class DogDetails:
    """What the school tells about a dog."""

    name: str
    tricks: tuple[str, ...]


class DogSchool(Application[Dog]):
    """Registers dogs and teaches them tricks."""

    def register(self, name: str) -> UUID:
        dog = Dog(name)
        self.save(dog)
        return dog.id

    def add_trick(self, dog_id: UUID, trick: str) -> None:
        dog = self.repository.get(dog_id)  # a Dog, for type checkers too
        dog.add_trick(trick)
        self.save(dog)

    def rename(self, dog_id: UUID, name: str) -> None:
        dog = self.repository.get(dog_id)
        dog.rename(name)
        self.save(dog)

    def get_dog(self, dog_id: UUID) -> DogDetails:
        dog = self.repository.get(dog_id)
        return DogDetails(name=dog.name, tricks=tuple(dog.tricks))


class TrickCounts(ProcessApplication[TrickCount]):
    """Follows the school and counts, for each trick, the dogs that learnt it."""

    @singledispatchmethod
    def policy(self, domain_event: Any, process_event: ProcessEvent) -> None:
        """Events of other types are ignored."""

    @policy.register(Dog.TrickAdded)
    def _(self, domain_event: Dog.TrickAdded, process_event: ProcessEvent) -> None:
        count_id = TrickCount.create_id(domain_event.trick)
        if count_id in self.repository:
            count = self.repository.get(count_id)
        else:
            count = TrickCount(domain_event.trick)
        count.count()
        process_event.save(count)

    def dogs_that_know(self, trick: str) -> int:
        count_id = TrickCount.create_id(trick)
        if count_id not in self.repository:
            return 0
        return self.repository.get(count_id).dogs
