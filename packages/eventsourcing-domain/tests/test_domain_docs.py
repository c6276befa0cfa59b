"""Every code example of the documentation's section 1.4 (domain), run as written.

The examples are kept as text, exactly as documented apart from conversion typos
(``event_sourcing`` for ``eventsourcing``, indentation lost at page breaks, and
definitions repeated across page breaks). Each one runs in a fresh module, so that
the topics of the classes it defines resolve; the examples that rely on running
as ``__main__`` are run with ``runpy.run_path(run_name="__main__")``.
"""

from __future__ import annotations

import runpy
import sys
import textwrap
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from eventsourcing.domain import upcast_state

# Names imported by earlier examples of the section, which later ones use.
PREAMBLE = """
from datetime import datetime
from typing import Optional
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, AggregateCreated, AggregateEvent
"""


RunExample = Callable[[str, str], dict[str, Any]]


@pytest.fixture
def run_example(monkeypatch: pytest.MonkeyPatch) -> RunExample:
    """Run an example in a fresh module, registered (for the test) so topics resolve."""

    def run(source: str, module_name: str) -> dict[str, Any]:
        module = types.ModuleType(module_name)
        monkeypatch.setitem(sys.modules, module_name, module)
        code = compile(PREAMBLE + textwrap.dedent(source), f"<{module_name}>", "exec")
        exec(code, module.__dict__)
        return module.__dict__

    return run


# 1.4.2 Event-sourced aggregates, 1.4.3 Basic example, 1.4.4 Domain events and
# 1.4.5 Snapshots: one story, in one namespace, run as __main__.
AGGREGATES_EVENTS_AND_SNAPSHOTS = """
from eventsourcing.domain import Aggregate

from uuid import uuid4

aggregate_id = uuid4()

aggregate = Aggregate._create(Aggregate.Created, id=aggregate_id)

assert aggregate.id == aggregate_id

assert aggregate.version == 1

from datetime import datetime

assert isinstance(aggregate.created_on, datetime)

from datetime import datetime

assert isinstance(aggregate.modified_on, datetime)

assert aggregate.created_on == aggregate.modified_on

from eventsourcing.domain import AggregateEvent

aggregate.trigger_event(AggregateEvent)

assert aggregate.version == 2

assert aggregate.modified_on > aggregate.created_on

from eventsourcing.domain import AggregateCreated

pending_events = aggregate.collect_events()

assert len(pending_events) == 2

assert isinstance(pending_events[0], AggregateCreated)
assert pending_events[0].originator_id == aggregate.id
assert pending_events[0].originator_version == 1
assert pending_events[0].timestamp == aggregate.created_on

assert isinstance(pending_events[1], AggregateEvent)
assert pending_events[1].originator_id == aggregate.id
assert pending_events[1].originator_version == 2
assert pending_events[1].timestamp == aggregate.modified_on

from eventsourcing.domain import Aggregate

class World(Aggregate):
    def __init__(self):
        self.history = []

    @classmethod
    def create(cls):
        return cls._create(cls.Created, id=uuid4())

    class Created(AggregateCreated):
        pass

    def make_it_so(self, what):
        self.trigger_event(self.SomethingHappened, what=what)

    class SomethingHappened(AggregateEvent):
        what: str

        def apply(self, world):
            world.history.append(self.what)

world = World.create()

assert isinstance(world, World)

from datetime import datetime

assert world.created_on == world.modified_on
assert isinstance(world.created_on, datetime)

# Commands methods trigger events.
world.make_it_so("dinosaurs")
world.make_it_so("trucks")
world.make_it_so("internet")

# State of aggregate object has changed.
assert world.history[0] == "dinosaurs"
assert world.history[1] == "trucks"
assert world.history[2] == "internet"

assert world.modified_on > world.created_on

# Has four pending events.
assert len(world.pending_events) == 4

# Collect pending events.
pending_events = world.collect_events()
assert len(pending_events) == 4
assert len(world.pending_events) == 0

assert isinstance(pending_events[0], World.Created)
assert isinstance(pending_events[1], World.SomethingHappened)
assert isinstance(pending_events[2], World.SomethingHappened)
assert isinstance(pending_events[3], World.SomethingHappened)
assert pending_events[1].what == "dinosaurs"
assert pending_events[2].what == "trucks"
assert pending_events[3].what == "internet"

assert pending_events[0].timestamp == world.created_on
assert pending_events[3].timestamp == world.modified_on

copy = None
for domain_event in pending_events:
    copy = domain_event.mutate(copy)

assert isinstance(copy, World)
assert copy.id == world.id
assert copy.version == world.version
assert copy.created_on == world.created_on
assert copy.modified_on == world.modified_on
assert copy.history == world.history

from eventsourcing.domain import Snapshot

snapshot = Snapshot.take(world)

assert isinstance(snapshot, Snapshot)
assert snapshot.originator_id == world.id
assert snapshot.originator_version == world.version
assert snapshot.topic == "__main__:World", snapshot.topic
assert snapshot.state["history"] == world.history
assert snapshot.state["_created_on"] == world.created_on
assert snapshot.state["_modified_on"] == world.modified_on
assert len(snapshot.state) == 3

copy = snapshot.mutate(None)

assert isinstance(copy, World)
assert copy.id == world.id
assert copy.version == world.version
assert copy.created_on == world.created_on
assert copy.modified_on == world.modified_on
assert copy.history == world.history
"""


def test_aggregates_events_and_snapshots_run_as_main(tmp_path: Path) -> None:
    path = tmp_path / "world.py"
    path.write_text(AGGREGATES_EVENTS_AND_SNAPSHOTS)
    namespace = runpy.run_path(str(path), run_name="__main__")
    assert namespace["snapshot"].topic == "__main__:World"
    assert namespace["copy"] == namespace["world"]
    assert "__main__" in sys.modules  # runpy put pytest's __main__ back


def test_aggregates_events_and_snapshots_run_in_a_named_module(
    run_example: RunExample,
) -> None:
    source = AGGREGATES_EVENTS_AND_SNAPSHOTS.replace(
        'snapshot.topic == "__main__:World"',
        'snapshot.topic == "domain_doc_world:World"',
    )
    namespace = run_example(source, "domain_doc_world")
    assert namespace["copy"].history == ["dinosaurs", "trucks", "internet"]


def test_initial_version_number(run_example: RunExample) -> None:
    namespace = run_example(
        """
        class MyAggregate(Aggregate):
            INITIAL_VERSION = 0

        aggregate = MyAggregate()
        assert aggregate.version == 0
        """,
        "domain_doc_initial_version",
    )
    assert namespace["aggregate"].collect_events()[0].originator_version == 0


VERSION_1 = """
class MyAggregate(Aggregate):
    def __init__(self, a:str):
        self.a = a

    @classmethod
    def create(cls, a:str):
        return cls._create(cls.Created, id=uuid4(), a=a)

    class Created(Aggregate.Created):
        a: str
"""

VERSION_2 = """
class MyAggregate(Aggregate):
    def __init__(self, a:str, b:int):
        self.a = a
        self.b = b

    @classmethod
    def create(cls, a:str, b: int = 0):
        return cls._create(cls.Created, id=uuid4(), a=a, b=b)

    class Created(Aggregate.Created):
        a: str
        b: int

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state):
            state["b"] = 0

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state):
        state["b"] = 0
"""

VERSION_3 = """
class MyAggregate(Aggregate):
    def __init__(self, a:str, b:int, c:float):
        self.a = a
        self.b = b
        self.c = c

    @classmethod
    def create(cls, a:str, b: int = 0, c: float = 0.0):
        return cls._create(cls.Created, id=uuid4(), a=a, b=b, c=c)

    class Created(Aggregate.Created):
        a: str
        b: int
        c: float

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state):
            state["b"] = 0

        @staticmethod
        def upcast_v2_v3(state):
            state["c"] = 0.0

    class_version = 3

    @staticmethod
    def upcast_v1_v2(state):
        state["b"] = 0

    @staticmethod
    def upcast_v2_v3(state):
        state["c"] = 0.0
"""

VERSION_4 = """
class MyAggregate(Aggregate):
    def __init__(self, a:str, b:int, c:float):
        self.a = a
        self.b = b
        self.c = c
        self.d = False

    @classmethod
    def create(cls, a:str, b: int = 0, c: float = 0.0):
        return cls._create(cls.Created, id=uuid4(), a=a, b=b, c=c)

    class Created(Aggregate.Created):
        a: str
        b: int
        c: float

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state):
            state["b"] = 0

        @staticmethod
        def upcast_v2_v3(state):
            state["c"] = 0.0

    def set_d(self, d: bool):
        self.trigger_event(self.DUpdated, d=d)

    class DUpdated(AggregateEvent):
        d: bool

        def apply(self, aggregate: "Aggregate") -> None:
            aggregate.d = self.d

    class_version = 4

    @staticmethod
    def upcast_v1_v2(state):
        state["b"] = 0

    @staticmethod
    def upcast_v2_v3(state):
        state["c"] = 0.0

    @staticmethod
    def upcast_v3_v4(state):
        state["d"] = False
"""


def test_versioning_version_1(run_example: RunExample) -> None:
    cls = run_example(VERSION_1, "domain_doc_v1")["MyAggregate"]
    assert cls.create(a="text").a == "text"
    state = {"a": "text"}
    upcast_state(cls.Created, state)
    assert state == {"a": "text"}


def test_versioning_version_2_upcasts_events_and_snapshots_from_version_1(
    run_example: RunExample,
) -> None:
    cls = run_example(VERSION_2, "domain_doc_v2")["MyAggregate"]
    agg = cls.create(a="text", b=2)
    assert (agg.a, agg.b) == ("text", 2)
    event_state = {"a": "text"}
    upcast_state(cls.Created, event_state)
    assert event_state == {"a": "text", "b": 0}
    snapshot_state: dict[str, Any] = {"a": "text", "_created_on": None}
    upcast_state(cls, snapshot_state)
    assert snapshot_state["b"] == 0


def test_versioning_version_3_upcasts_from_versions_1_and_2(
    run_example: RunExample,
) -> None:
    cls = run_example(VERSION_3, "domain_doc_v3")["MyAggregate"]
    assert cls.create(a="text").c == 0.0
    from_v1: dict[str, Any] = {"a": "text"}
    upcast_state(cls.Created, from_v1)
    assert from_v1 == {"a": "text", "b": 0, "c": 0.0}
    from_v2: dict[str, Any] = {"a": "text", "b": 5, "class_version": 2}
    upcast_state(cls.Created, from_v2)
    assert from_v2 == {"a": "text", "b": 5, "c": 0.0}
    from_v3: dict[str, Any] = {"a": "t", "b": 5, "c": 1.5, "class_version": 3}
    upcast_state(cls, from_v3)
    assert from_v3 == {"a": "t", "b": 5, "c": 1.5}


def test_versioning_version_4_upcasts_snapshots_of_the_aggregate(
    run_example: RunExample,
) -> None:
    cls = run_example(VERSION_4, "domain_doc_v4")["MyAggregate"]
    agg = cls.create(a="text")
    agg.set_d(True)
    assert agg.d is True
    snapshot_state: dict[str, Any] = {"a": "text", "b": 1, "class_version": 2}
    upcast_state(cls, snapshot_state)
    assert snapshot_state == {"a": "text", "b": 1, "c": 0.0, "d": False}
    event_state: dict[str, Any] = {"a": "text", "class_version": 2}
    upcast_state(cls.Created, event_state)
    assert event_state == {"a": "text", "c": 0.0}


NAMESPACED_IDS = """
from uuid import NAMESPACE_URL, uuid5, UUID
from typing import Optional

from eventsourcing.domain import Aggregate

class Page(Aggregate):
    def __init__(self, name: str, body: str):
        self.name = name
        self.body = body

    @classmethod
    def create(cls, name: str, body: str = ""):
        return cls._create(
            id=uuid4(),
            event_class=cls.Created,
            name=name,
            body=body
        )

    class Created(AggregateCreated):
        name: str
        body: str

    def update_name(self, name: str):
        self.trigger_event(self.NameUpdated, name=name)

    class NameUpdated(AggregateEvent):
        name: str

        def apply(self, page: "Page"):
            page.name = self.name

class Index(Aggregate):
    def __init__(self, name: str, ref: UUID):
        self.name = name
        self.ref = ref

    @classmethod
    def create(cls, name: str, ref: UUID):
        return cls._create(
            event_class=cls.Created,
            id=cls.create_id(page.name),
            name=page.name,
            ref=page.id
        )

    @staticmethod
    def create_id(name: str):
        return uuid5(NAMESPACE_URL, f"/pages/{name}")

    class Created(AggregateCreated):
        name: str
        ref: UUID

    def update_ref(self, ref):
        self.trigger_event(self.RefUpdated, ref=ref)

    class RefUpdated(AggregateEvent):
        ref: Optional[UUID]

        def apply(self, index: "Index"):
            index.ref = self.ref

page = Page.create(name="Erth")
index1 = Index.create(page.name, page.id)

index_id = Index.create_id("Erth")
assert index_id == index1.id
assert index1.ref == page.id

page.update_name("Earth")
index2 = Index.create(page.name, page.id)

index_id = Index.create_id("Earth")
assert index_id == index2.id
assert index2.ref == page.id
"""


def test_namespaced_ids(run_example: RunExample) -> None:
    namespace = run_example(NAMESPACED_IDS, "domain_doc_namespaced_ids")
    index1 = namespace["index1"]
    assert isinstance(index1.id, UUID)
    assert index1.id.version == 5
    index1.update_ref(None)
    assert index1.ref is None


def test_create_by_calling_the_class(run_example: RunExample) -> None:
    namespace = run_example(
        """
        class MyAggregate(Aggregate):
            class Created(Aggregate.Created):
                pass

        # Call the class directly.
        agg = MyAggregate()

        # There is one pending event.
        pending_events = agg.collect_events()
        assert len(pending_events) == 1
        assert isinstance(pending_events[0], MyAggregate.Created)

        # The pending event can be used to reconstruct the aggregate.
        copy = pending_events[0].mutate(None)
        assert copy.id == agg.id
        assert copy.created_on == agg.created_on
        """,
        "domain_doc_call_class",
    )
    assert namespace["copy"] == namespace["agg"]


def test_created_event_class_defined_from_init(run_example: RunExample) -> None:
    namespace = run_example(
        """
        class MyAggregate(Aggregate):
            def __init__(self, name):
                self.name = name

        # Call the class with a 'name' argument.
        agg = MyAggregate(name="foo")
        assert agg.name == "foo"

        # There is one pending event.
        pending_events = agg.collect_events()
        assert len(pending_events) == 1

        # The pending event is a created event.
        assert isinstance(pending_events[0], MyAggregate.Created)

        # The created event has a 'name' attribute.
        pending_events[0].name == "foo"

        # The created event can be used to reconstruct the aggregate.
        copy = pending_events[0].mutate(None)
        assert copy.name == agg.name
        """,
        "domain_doc_init_created",
    )
    assert namespace["pending_events"][0].name == "foo"


def test_dataclass_style_init(run_example: RunExample) -> None:
    namespace = run_example(
        """
        from dataclasses import dataclass

        @dataclass
        class MyAggregate(Aggregate):
            name: str

        # Create a new aggregate.
        agg = MyAggregate(name="foo")

        # The aggregate has a 'name' attribute
        assert agg.name == "foo"

        # The created event has a 'name' attribute.
        pending_events = agg.collect_events()
        pending_events[0].name == "foo"
        """,
        "domain_doc_dataclass_style",
    )
    assert namespace["pending_events"][0].name == "foo"


def test_dataclass_style_optional_arguments(run_example: RunExample) -> None:
    namespace = run_example(
        """
        from dataclasses import dataclass

        @dataclass
        class MyAggregate(Aggregate):
            name: str = "bar"

        # Call the class without a name.
        agg = MyAggregate()
        assert agg.name == "bar"

        # Call the class with a name.
        agg = MyAggregate("foo")
        assert agg.name == "foo"
        """,
        "domain_doc_dataclass_defaults",
    )
    assert namespace["agg"].collect_events()[0].name == "foo"


def test_dataclass_style_non_init_fields(run_example: RunExample) -> None:
    namespace = run_example(
        """
        from dataclasses import dataclass

        from dataclasses import field
        from typing import List

        @dataclass
        class MyAggregate(Aggregate):
            history: List[str] = field(default_factory=list, init=False)

        # Create a new aggregate.
        agg = MyAggregate()

        # The aggregate has a list.
        assert agg.history == []
        """,
        "domain_doc_dataclass_field",
    )
    copy = namespace["agg"].collect_events()[0].mutate(None)
    assert copy.history == []


def test_created_event_name_class_argument(run_example: RunExample) -> None:
    namespace = run_example(
        """
        class MyAggregate(Aggregate, created_event_name="Started"):
            name: str

        # Create a new aggregate.
        agg = MyAggregate("foo")

        # The created event class is called "Started".
        pending_events = agg.collect_events()
        assert isinstance(pending_events[0], MyAggregate.Started)
        """,
        "domain_doc_created_event_name",
    )
    assert namespace["pending_events"][0].name == "foo"


def test_created_event_class_declared_explicitly(run_example: RunExample) -> None:
    namespace = run_example(
        """
        class MyAggregate(Aggregate):
            class Started(Aggregate.Created):
                pass

        # Create a new aggregate.
        agg = MyAggregate()

        # The created event class is called "Started".
        pending_events = agg.collect_events()
        assert isinstance(pending_events[0], MyAggregate.Started)
        """,
        "domain_doc_started",
    )
    assert type(namespace["pending_events"][0]).__name__ == "Started"


def test_created_event_name_chooses_among_several_created_classes(
    run_example: RunExample,
) -> None:
    namespace = run_example(
        """
        class MyAggregate(Aggregate, created_event_name="Started"):
            class Created(Aggregate.Created):
                pass

            class Started(Aggregate.Created):
                pass

        # Create a new aggregate.
        agg = MyAggregate()

        # The created event class is called "Started".
        pending_events = agg.collect_events()
        assert isinstance(pending_events[0], MyAggregate.Started)
        """,
        "domain_doc_several_created",
    )
    assert not isinstance(
        namespace["pending_events"][0], namespace["MyAggregate"].Created
    )


def test_created_event_name_matching_no_class_defines_one(
    run_example: RunExample,
) -> None:
    namespace = run_example(
        """
        class MyAggregate(Aggregate, created_event_name="Opened"):
            class Created(Aggregate.Created):
                pass

            class Started(Aggregate.Created):
                pass

        # Create a new aggregate.
        agg = MyAggregate()

        # The created event class is called "Opened".
        pending_events = agg.collect_events()
        assert isinstance(pending_events[0], MyAggregate.Opened)
        """,
        "domain_doc_opened",
    )
    opened = namespace["MyAggregate"].Opened
    assert opened.__qualname__ == "MyAggregate.Opened"


def test_create_id_from_arguments(run_example: RunExample) -> None:
    namespace = run_example(
        """
        class MyAggregate(Aggregate):
            name: str

            @staticmethod
            def create_id(name: str):
                return uuid5(NAMESPACE_URL, f"/my_aggregates/{name}")

        # Create a new aggregate.
        agg = MyAggregate(name="foo")
        assert agg.name == "foo"

        # The aggregate ID is a version 5 UUID.
        assert agg.id == MyAggregate.create_id("foo")
        """,
        "domain_doc_create_id",
    )
    assert namespace["agg"].id.version == 5


def test_id_attribute_and_id_argument_of_init(run_example: RunExample) -> None:
    namespace = run_example(
        """
        def create_id(name: str):
            return uuid5(NAMESPACE_URL, f"/my_aggregates/{name}")

        class MyAggregate(Aggregate):
            id: UUID

        # Create an ID.
        agg_id = create_id(name="foo")

        # Create an aggregate with the ID.
        agg = MyAggregate(id=agg_id)
        assert agg.id == agg_id

        class MyAggregate(Aggregate):
            def __init__(self, id: UUID):
                self._id = id

        # Create an aggregate with the ID.
        agg = MyAggregate(id=agg_id)
        assert agg.id == agg_id
        """,
        "domain_doc_id_argument",
    )
    agg = namespace["agg"]
    copy = agg.collect_events()[0].mutate(None)
    assert copy.id == namespace["agg_id"]


def test_event_decorator_with_name(run_example: RunExample) -> None:
    namespace = run_example(
        """
        from eventsourcing.domain import event

        class MyAggregate(Aggregate):
            name: str

            @event("NameUpdated")
            def update_name(self, name):
                self.name = name

        # Create an aggregate.
        agg = MyAggregate(name="foo")
        assert agg.name == "foo"

        # Update the name.
        agg.update_name("bar")
        assert agg.name == "bar"

        # There are two pending events.
        pending_events = agg.collect_events()
        assert len(pending_events) == 2
        assert pending_events[0].name == "foo"

        # The second pending event is a 'NameUpdated' event.
        assert isinstance(pending_events[1], MyAggregate.NameUpdated)

        # The second pending event has a 'name' attribute.
        assert pending_events[1].name == "bar"
        """,
        "domain_doc_event_name",
    )
    copy = None
    for e in namespace["pending_events"]:
        copy = e.mutate(copy)
    assert copy == namespace["agg"]


def test_event_decorator_without_arguments(run_example: RunExample) -> None:
    namespace = run_example(
        """
        from eventsourcing.domain import event

        class MyAggregate(Aggregate):
            name: str

            @event
            def name_updated(self, name):
                self.name = name

        # Create an aggregate.
        agg = MyAggregate(name="foo")
        assert agg.name == "foo"

        # Update the name.
        agg.name_updated("bar")
        assert agg.name == "bar"

        # There are two pending events.
        pending_events = agg.collect_events()
        assert len(pending_events) == 2
        assert pending_events[0].name == "foo"

        # The second pending event is a 'NameUpdated' event.
        assert isinstance(pending_events[1], MyAggregate.NameUpdated)

        # The second pending event has a 'name' attribute.
        assert pending_events[1].name == "bar"
        """,
        "domain_doc_event_bare",
    )
    assert namespace["MyAggregate"].NameUpdated.__name__ == "NameUpdated"


def test_event_decorator_on_conditionally_called_method(
    run_example: RunExample,
) -> None:
    namespace = run_example(
        """
        from eventsourcing.domain import event

        class MyAggregate(Aggregate):
            name: str

            def update_name(self, name):
                if name != self.name:
                    self.name_updated(name)

            @event
            def name_updated(self, name):
                self.name = name

        # Create an aggregate.
        agg = MyAggregate(name="foo")
        assert agg.name == "foo"

        # Update the name lots of times.
        agg.update_name("foo")
        agg.update_name("foo")
        agg.update_name("foo")
        agg.update_name("bar")
        agg.update_name("bar")
        agg.update_name("bar")
        agg.update_name("bar")

        # There are two pending events (not eight).
        pending_events = agg.collect_events()
        assert len(pending_events) == 2, len(pending_events)
        """,
        "domain_doc_conditional",
    )
    assert namespace["agg"].version == 2


def test_world_aggregate_revisited(run_example: RunExample) -> None:
    namespace = run_example(
        """
        from eventsourcing.domain import event

        class World(Aggregate):
            def __init__(self):
                self.history = []

            @event("SomethingHappened")
            def make_it_so(self, what):
                self.history.append(what)

        world = World()
        world.make_it_so("dinosaurs")
        world.make_it_so("trucks")
        world.make_it_so("internet")

        assert world.history[0] == "dinosaurs"
        assert world.history[1] == "trucks"
        assert world.history[2] == "internet"
        assert len(world.collect_events()) == 4
        """,
        "domain_doc_world_revisited",
    )
    assert namespace["World"].SomethingHappened.__qualname__ == (
        "World.SomethingHappened"
    )


def test_page_and_index_revisited(run_example: RunExample) -> None:
    namespace = run_example(
        """
        from eventsourcing.domain import event

        from dataclasses import dataclass

        @dataclass
        class Page(Aggregate):
            name: str
            body: str = ""

            @event("NameUpdated")
            def update_name(self, name: str):
                self.name = name

        @dataclass
        class Index(Aggregate):
            name: str
            ref: Optional[UUID]

            @staticmethod
            def create_id(name: str):
                return uuid5(NAMESPACE_URL, f"/pages/{name}")

            @event("RefUpdated")
            def update_ref(self, ref: Optional[UUID]):
                self.ref = ref

        # Create new page and index aggregates.
        page = Page(name="Erth")
        index1 = Index(name=page.name, ref=page.id)

        # The page name can be used to recreate
        # the index ID. The index ID can be used
        # to retrieve the index aggregate, which
        # gives the page ID, and then the page ID
        # can be used to retrieve the page aggregate.
        index_id = Index.create_id(name="Erth")
        assert index_id == index1.id
        assert index1.ref == page.id
        assert index1.name == page.name

        # Later, the page name can be updated,
        # and a new index created for the page.
        page.update_name(name="Earth")
        index1.update_ref(ref=None)
        index2 = Index(name=page.name, ref=page.id)

        # The new page name can be used to recreate
        # the new index ID. The new index ID can be
        # used to retrieve the new index aggregate,
        # which gives the page ID, and then the page
        # ID can be used to retrieve the renamed page.
        index_id = Index.create_id(name="Earth")
        assert index_id == index2.id
        assert index2.ref == page.id
        assert index2.name == page.name
        """,
        "domain_doc_page_index",
    )
    assert namespace["index1"].ref is None


ORDINARY_ORDER = """
class Order:
    def __init__(self, name):
        self.name = name
        self.confirmed_at = None
        self.pickedup_at = None

    def confirm(self, at):
        self.confirmed_at = at

    def pickup(self, at):
        if self.confirmed_at:
            self._pickup(at)
        else:
            raise RuntimeError("Order is not confirmed")

    def _pickup(self, at):
        self.pickedup_at = at

# Start a new order, confirm, and pick up.
order = Order("my order")

try:
    order.pickup(datetime.now())
except RuntimeError:
    pass
else:
    raise AssertionError("shouldn't get here")

order.confirm(datetime.now())
order.pickup(datetime.now())
"""


def test_non_trivial_command_methods_ordinary_class(run_example: RunExample) -> None:
    namespace = run_example(ORDINARY_ORDER, "domain_doc_ordinary_order")
    assert namespace["order"].pickedup_at is not None


def test_non_trivial_command_methods_aggregate(run_example: RunExample) -> None:
    namespace = run_example(
        """
        from eventsourcing.domain import event

        class Order(Aggregate):
            def __init__(self, name):
                self.name = name
                self.confirmed_at = None
                self.pickedup_at = None

            @event("Confirmed")
            def confirm(self, at):
                self.confirmed_at = at

            def pickup(self, at):
                if self.confirmed_at:
                    self._pickup(at)
                else:
                    raise RuntimeError("Order is not confirmed")

            @event("PickedUp")
            def _pickup(self, at):
                self.pickedup_at = at

        order = Order("my order")
        order.confirm(datetime.now())
        order.pickup(datetime.now())

        # Check the state of the order.
        assert order.name == "my order"
        assert isinstance(order.confirmed_at, datetime)
        assert isinstance(order.pickedup_at, datetime)
        assert order.pickedup_at > order.confirmed_at

        # Check the triggered events determine the state of the order.
        pending_events = order.collect_events()
        copy = None
        for e in pending_events:
            copy = e.mutate(copy)
        assert copy.name == order.name
        assert copy.created_on == order.created_on
        assert copy.modified_on == order.modified_on
        assert copy.confirmed_at == order.confirmed_at
        assert copy.pickedup_at == order.pickedup_at
        """,
        "domain_doc_order",
    )
    assert [type(e).__name__ for e in namespace["pending_events"]] == [
        "Created",
        "Confirmed",
        "PickedUp",
    ]


def test_raising_exceptions_in_the_body_of_decorated_methods(
    run_example: RunExample,
) -> None:
    namespace = run_example(
        """
        from eventsourcing.domain import event

        class Order(Aggregate):
            def __init__(self, name):
                self.name = name
                self.confirmed_at = None
                self.pickedup_at = None

            @event("Confirmed")
            def confirm(self, at):
                self.confirmed_at = at

            @event("PickedUp")
            def pickup(self, at):
                if self.confirmed_at:
                    self.pickedup_at = at
                else:
                    raise RuntimeError("Order is not confirmed")

        # Creating the aggregate causes one pending event.
        order = Order("name")
        assert len(order.pending_events) == 1

        # Call pickup() too early raises an exception.
        try:
            order.pickup(datetime.now())
        except RuntimeError:
            pass
        else:
            raise Exception("Shouldn't get here")

        # There is still only one pending event.
        assert len(order.pending_events) == 1
        """,
        "domain_doc_order_raises",
    )
    assert namespace["order"].version == 1


def test_aggregate_class_decorator(run_example: RunExample) -> None:
    namespace = run_example(
        """
        from eventsourcing.domain import aggregate

        @aggregate(created_event_name="Started")
        class Order:
            def __init__(self, name):
                self.name = name

        order = Order("my order")
        pending_events = order.collect_events()
        assert isinstance(pending_events[0], Order.Started)
        """,
        "domain_doc_aggregate_decorator",
    )
    assert namespace["pending_events"][0].mutate(None).name == "my order"


def test_class_reference_examples_of_event(run_example: RunExample) -> None:
    named = run_example(
        """
        from eventsourcing.domain import event

        class MyAggregate(Aggregate):
            @event("NameChanged")
            def set_name(self, name: str):
                self.name = name
        """,
        "domain_doc_reference_event_named",
    )["MyAggregate"]
    explicit = run_example(
        """
        class MyAggregate(Aggregate):
            def set_name(self, name: str):
                self.trigger_event(self.NameChanged, name=name)

            class NameChanged(Aggregate.Event):
                name: str

                def apply(self, aggregate):
                    aggregate.name = self.name
        """,
        "domain_doc_reference_event_explicit",
    )["MyAggregate"]
    given = run_example(
        """
        from eventsourcing.domain import event

        class MyAggregate(Aggregate):

            class NameChanged(Aggregate.Event):
                name: str

            @event(NameChanged)
            def set_name(self, name: str):
                aggregate.name = self.name
        """,
        "domain_doc_reference_event_given",
    )["MyAggregate"]
    for cls in (named, explicit):
        agg = cls()
        agg.set_name("bar")
        assert agg.name == "bar"
        assert agg.collect_events()[1].name == "bar"
    # The documented body of the last example refers to undefined names.
    agg = given()
    with pytest.raises(AttributeError):
        agg.set_name("bar")
    assert agg.version == 1


def test_class_reference_example_of_aggregate(run_example: RunExample) -> None:
    namespace = run_example(
        """
        from eventsourcing.domain import aggregate

        @aggregate
        class MyAggregate:
            pass
        """,
        "domain_doc_reference_aggregate",
    )
    assert isinstance(namespace["MyAggregate"](), Aggregate)


from eventsourcing.domain import Aggregate  # noqa: E402  (used by the test above)


def test_readme_example(run_example: RunExample) -> None:
    readme = Path(__file__).parent.parent / "README.md"
    source = readme.read_text().split("```python\n")[1].split("```")[0]
    namespace = run_example(source, "domain_readme")
    assert namespace["copy"].history == ["dinosaurs"]
