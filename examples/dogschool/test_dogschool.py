"""The dog school and its follower, on each backend."""

from __future__ import annotations

from eventsourcing.system import SingleThreadedRunner, System
from examples.dogschool.application import DogDetails, DogSchool, TrickCounts
from examples.dogschool.domainmodel import Dog


def test_a_dog_learns_tricks_and_keeps_them(env: dict[str, str]) -> None:
    with DogSchool(env=env) as school:
        dog_id = school.register("Fido")
        school.add_trick(dog_id, "roll over")
        school.add_trick(dog_id, "play dead")
        school.rename(dog_id, "Fido the Great")

        assert school.get_dog(dog_id) == DogDetails(
            name="Fido the Great", tricks=("roll over", "play dead")
        )
        events = school.events.get(dog_id)
        assert [type(e) for e in events] == [
            Dog.Registered,
            Dog.TrickAdded,
            Dog.TrickAdded,
            Dog.Renamed,
        ]


def test_the_follower_counts_the_dogs_that_know_each_trick(
    env: dict[str, str],
) -> None:
    runner = SingleThreadedRunner(System(pipes=[[DogSchool, TrickCounts]]), env=env)
    runner.start()
    try:
        school = runner.get(DogSchool)
        for name in ["Fido", "Rex"]:
            school.add_trick(school.register(name), "sit")
        school.add_trick(school.register("Lassie"), "fetch")

        counts = runner.get(TrickCounts)
        assert counts.dogs_that_know("sit") == 2
        assert counts.dogs_that_know("fetch") == 1
        assert counts.dogs_that_know("juggle") == 0
    finally:
        runner.stop()
