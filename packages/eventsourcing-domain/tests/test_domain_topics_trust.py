"""Topics from stored data never run code; register_topic() keeps old topics loading."""

from __future__ import annotations

import sys
import tempfile
import types
import uuid
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

from eventsourcing.domain import Aggregate, DomainEvent, Snapshot
from eventsourcing.utils import (
    ALLOWED_TOPIC_MODULES,
    TopicError,
    allow_topic_modules,
    get_topic,
    register_topic,
    resolve_stored_topic,
    resolve_topic,
)


@pytest.fixture
def module_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder on sys.path for modules that record being imported."""
    with mock.patch.object(sys, "path", [str(tmp_path), *sys.path]):
        yield tmp_path


def write_module(folder: Path, marker: Path) -> str:
    """A module that leaves ``marker`` behind when imported, as an attack would."""
    name = f"victim_{uuid.uuid4().hex[:12]}"
    (folder / f"{name}.py").write_text(
        "import pathlib\n"
        f"pathlib.Path({str(marker)!r}).write_text('imported')\n"
        "from eventsourcing.domain import DomainEvent\n"
        "class Happened(DomainEvent):\n"
        "    pass\n"
    )
    return name


def test_stored_topic_of_a_module_not_imported_is_refused_without_importing(
    module_dir: Path,
) -> None:
    marker = module_dir / "marker"
    name = write_module(module_dir, marker)
    with pytest.raises(TopicError, match=ALLOWED_TOPIC_MODULES) as raised:
        resolve_stored_topic(f"{name}:Happened", DomainEvent)
    assert name in str(raised.value)
    assert not marker.exists()
    assert name not in sys.modules


def test_stored_topic_of_an_allowed_module_is_imported(module_dir: Path) -> None:
    marker = module_dir / "marker"
    name = write_module(module_dir, marker)
    allow_topic_modules(name)
    cls = resolve_stored_topic(f"{name}:Happened", DomainEvent)
    assert cls.__name__ == "Happened"
    assert marker.exists()


def test_allowed_modules_can_come_from_the_environment(
    module_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = write_module(module_dir, module_dir / "marker")
    package_dir = module_dir / f"pkg_{name}"
    package_dir.mkdir()
    (package_dir / "__init__.py").write_text("")
    (package_dir / "models.py").write_text(
        "from eventsourcing.domain import DomainEvent\n"
        "class E(DomainEvent):\n    pass\n"
    )
    monkeypatch.setenv(ALLOWED_TOPIC_MODULES, f" other , pkg_{name}. ")
    assert resolve_stored_topic(f"pkg_{name}.models:E", DomainEvent).__name__ == "E"


def test_invalid_allowed_module_names_are_refused() -> None:
    for bad in ("", "a:b", "..", 3):
        with pytest.raises(TopicError, match="Invalid module name"):
            allow_topic_modules(bad)  # type: ignore[arg-type]  # the point


def test_stored_topic_naming_a_class_of_the_wrong_kind_is_refused() -> None:
    assert "tempfile" in sys.modules
    with pytest.raises(TopicError, match=r"not a subclass of eventsourcing\.domain"):
        resolve_stored_topic("tempfile:_TemporaryFileCloser", DomainEvent)
    with pytest.raises(TopicError, match="not a subclass"):
        resolve_stored_topic("tempfile:", DomainEvent)
    with pytest.raises(TopicError, match="not a subclass"):
        resolve_stored_topic(get_topic(Snapshot), Aggregate)
    assert resolve_stored_topic(get_topic(Snapshot), DomainEvent) is Snapshot
    assert tempfile.gettempdir()


def test_stored_topic_naming_a_main_module_is_refused() -> None:
    assert "unittest.__main__" not in sys.modules
    with pytest.raises(TopicError, match="a __main__ module runs a program"):
        resolve_stored_topic("unittest.__main__:x", DomainEvent)
    assert "unittest.__main__" not in sys.modules
    with pytest.raises(TopicError, match="a __main__ module runs a program"):
        resolve_stored_topic("eventsourcing.__main__:x", DomainEvent)


def test_stored_topic_of_the_wrong_form_is_refused() -> None:
    for bad in ("this", "a:b:c", ""):
        with pytest.raises(TopicError, match="not of the form"):
            resolve_stored_topic(bad, DomainEvent)
    with pytest.raises(TopicError, match="not of the form"):
        resolve_stored_topic(5, DomainEvent)  # type: ignore[arg-type]  # the point


def test_stored_topic_attributes_are_looked_up_without_running_code(
    module_dir: Path,
) -> None:
    calls: list[str] = []
    module = types.ModuleType(f"lazy_{uuid.uuid4().hex[:12]}")

    def module_getattr(name: str) -> object:
        calls.append(name)
        return Snapshot

    module.__getattr__ = module_getattr  # type: ignore[method-assign]  # a PEP 562 hook

    class Holder:
        @property
        def Event(self) -> object:
            calls.append("property")
            return Snapshot

    module.Holder = Holder  # type: ignore[attr-defined]  # set for the test
    sys.modules[module.__name__] = module
    try:
        with pytest.raises(TopicError, match="has no attribute 'Anything'"):
            resolve_stored_topic(f"{module.__name__}:Anything", DomainEvent)
        with pytest.raises(TopicError, match="not a subclass"):
            resolve_stored_topic(f"{module.__name__}:Holder.Event", DomainEvent)
        # Inherited nested classes are found through the class's bases.
        assert resolve_stored_topic(
            "eventsourcing.domain:Aggregate.Created", DomainEvent
        )
    finally:
        del sys.modules[module.__name__]
    assert calls == []


def test_register_topic_maps_an_old_topic_to_a_moved_class() -> None:
    class Renamed(DomainEvent):
        pass

    old = f"old_module_{uuid.uuid4().hex[:8]}:OldName"
    register_topic(old, Renamed)
    register_topic(old, Renamed)  # the same again is fine
    assert resolve_topic(old) is Renamed
    assert resolve_stored_topic(old, DomainEvent) is Renamed
    with pytest.raises(TopicError, match="already registered"):
        register_topic(old, Snapshot)


def test_register_topic_maps_an_old_module_to_a_new_one(module_dir: Path) -> None:
    new_name = f"new_pkg_{uuid.uuid4().hex[:8]}"
    (module_dir / new_name).mkdir()
    (module_dir / new_name / "__init__.py").write_text(
        "from eventsourcing.domain import DomainEvent\n"
        "class E(DomainEvent):\n    pass\n"
    )
    (module_dir / new_name / "sub.py").write_text(
        "from eventsourcing.domain import DomainEvent\n"
        "class F(DomainEvent):\n    pass\n"
    )
    new = __import__(new_name)
    old_name = f"old_pkg_{uuid.uuid4().hex[:8]}"
    register_topic(old_name, new)
    assert resolve_stored_topic(f"{old_name}:E", DomainEvent) is new.E
    assert resolve_topic(f"{old_name}:E") is new.E
    assert resolve_stored_topic(f"{old_name}.sub:F", DomainEvent).__name__ == "F"
    with pytest.raises(TopicError, match="already registered"):
        register_topic(old_name, sys)


def test_register_topic_refuses_what_cannot_be_registered() -> None:
    with pytest.raises(TopicError, match="non-empty topic"):
        register_topic("", DomainEvent)
    with pytest.raises(TopicError, match="give a module object"):
        register_topic("just_a_module_name", DomainEvent)


def test_computed_topic_does_not_replace_a_registered_one() -> None:
    class Replacement(DomainEvent):
        pass

    qualname = "test_computed_topic_does_not_replace_a_registered_one.<locals>"
    topic = f"{__name__}:{qualname}.Current"
    register_topic(topic, Replacement)

    class Current(DomainEvent):
        pass

    assert get_topic(Current) == topic
    assert resolve_topic(topic) is Replacement
