"""Topics: strings of the form ``"module:qualname"`` that locate classes and objects.

Two ways to resolve one. :func:`resolve_topic` is for topics the user wrote (in
settings or code): it imports what the topic names. :func:`resolve_stored_topic` is
for topics read from stored or remote data, which must never run code: it imports
only allowed modules and returns only a subclass of the expected class (see the
"Security" page of the documentation).
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from types import ModuleType
from typing import Any, TypeVar

_T = TypeVar("_T")

ALLOWED_TOPIC_MODULES = "ALLOWED_TOPIC_MODULES"
"""The environment variable that lists further modules (or packages) whose topics
stored data may name, comma-separated."""

# Modules that stored topics may import without being listed: the library's own.
_DEFAULT_ALLOWED = ("eventsourcing",)

# topic -> object, for the classes whose topics this process has computed (so that
# classes defined inside functions resolve again) and for registered topics.
_objects: dict[str, Any] = {}
# class -> topic, so that computing a topic costs one look-up after the first time.
_topics: dict[type, str] = {}
# old module (or package) name -> the module that replaces it.
_modules: dict[str, ModuleType] = {}
# Topics registered by register_topic(), which computed topics never replace.
_registered: set[str] = set()
_allowed: set[str] = set()
_lock = threading.Lock()


class TopicError(ValueError):
    """Raised when a topic cannot be resolved to a Python object, or resolves to an
    object that may not be used where it was found."""


def get_topic(cls: type) -> str:
    """Return the topic (``"module:qualname"``) that locates the given class.

    The class is remembered, so that :func:`resolve_topic` and
    :func:`resolve_stored_topic` find it again in this process even when its topic
    does not resolve by import (a class defined inside a function).
    """
    topic = _topics.get(cls)
    if topic is None:
        topic = f"{cls.__module__}:{cls.__qualname__}"
        _topics[cls] = topic
        if topic not in _registered:
            _objects[topic] = cls
    return topic


def register_topic(topic: str, obj: Any) -> None:
    """Make ``topic`` resolve to ``obj``, so that stored events keep loading after a
    class or module was moved or renamed.

    ``topic`` is either a whole topic (``"oldmodule:Account.Opened"``) or, with a
    module object as ``obj``, a module or package name without a colon
    (``"oldpackage.models"``), which then stands for ``obj`` in every topic that
    names it or one of its submodules. Registered topics are trusted: stored data
    may name them. Registering a topic again for another object raises
    :class:`TopicError`.
    """
    if not isinstance(topic, str) or not topic:
        msg = f"register_topic() needs a non-empty topic string, not {topic!r}"
        raise TopicError(msg)
    if ":" not in topic and not isinstance(obj, ModuleType):
        msg = (
            f"register_topic({topic!r}, {obj!r}): a name without a colon stands "
            "for a module, so give a module object; to register a class, give "
            "its whole old topic, such as 'oldmodule:OldName'"
        )
        raise TopicError(msg)
    with _lock:
        registry: dict[str, Any] = _objects if ":" in topic else _modules
        existing = registry.get(topic)
        if (
            existing is not None
            and existing is not obj
            and (registry is _modules or topic in _registered)
        ):
            msg = (
                f"Topic {topic!r} is already registered for {existing!r}: it cannot "
                f"also stand for {obj!r}"
            )
            raise TopicError(msg)
        registry[topic] = obj
        if registry is _objects:
            _registered.add(topic)


def allow_topic_modules(*names: str) -> None:
    """Allow stored topics to name these modules or packages (and their submodules).

    Topics read from stored or remote data import only allowed modules. Modules
    already imported are always allowed, so this is needed only where a process
    reads events of classes it has not imported (see also "ALLOWED_TOPIC_MODULES").
    """
    for name in names:
        if not isinstance(name, str) or not name.strip(".") or ":" in name:
            msg = (
                f"Invalid module name {name!r}: give a module or package name such "
                "as 'myapp' or 'myapp.domain'"
            )
            raise TopicError(msg)
    with _lock:
        _allowed.update(name.strip(".") for name in names)


def resolve_topic(topic: str) -> Any:
    """Return the object located by the given topic, importing its module.

    A topic is ``"module:qualname"``, where the qualified name may name a nested
    class (``"eventsourcing.domain:Aggregate.Created"``). A dotted path without a
    colon (``"datetime.timezone.utc"``) is also accepted: its longest importable
    prefix is taken as the module. Registered topics (:func:`register_topic`) and
    classes whose topics were computed in this process are found first. Raises
    :class:`TopicError` when nothing is found.

    Use it for topics the user wrote; for topics read from stored or remote data
    use :func:`resolve_stored_topic`, which never imports what is not allowed.
    """
    if not isinstance(topic, str) or not topic:
        msg = f"Topic must be a non-empty string like 'module:QualName', not {topic!r}"
        raise TopicError(msg)
    found = _objects.get(topic)
    if found is not None:
        return found
    if ":" in topic:
        module_name, _, qualname = topic.partition(":")
        module = _registered_module(module_name) or _import_module(topic, module_name)
    else:
        module_name, qualname, module = _import_longest_prefix(topic)
    return _walk(topic, module_name, module, qualname, getattr)


def resolve_stored_topic(topic: str, expected: type[_T]) -> type[_T]:
    """Return the subclass of ``expected`` that a topic read from stored or remote
    data names, running no code to find it.

    The module is imported only if it is already imported, registered, or allowed
    (the library's own modules, :func:`allow_topic_modules` and
    "ALLOWED_TOPIC_MODULES"); attributes are looked up without calling any
    ``__getattr__`` or descriptor. Anything else raises :class:`TopicError`, which
    names the topic and the setting that would allow it.
    """
    found = _objects.get(topic)
    if found is None:
        if not isinstance(topic, str) or topic.count(":") != 1:
            msg = f"Stored topic {topic!r:.200} is not of the form 'module:QualName'"
            raise TopicError(msg)
        module_name, _, qualname = topic.partition(":")
        module = _registered_module(module_name) or _import_allowed(topic, module_name)
        found = _walk(topic, module_name, module, qualname, _static_getattr)
    if not (isinstance(found, type) and issubclass(found, expected)):
        msg = (
            f"Stored topic {topic!r:.200} names {found!r:.200}, which is not a "
            f"subclass of {expected.__module__}.{expected.__qualname__}: refused "
            "(stored data may only name classes of that kind)"
        )
        raise TopicError(msg)
    return found


def _registered_module(module_name: str) -> ModuleType | None:
    if not _modules:
        return None
    parts = module_name.split(".")
    for i in range(len(parts), 0, -1):
        replacement = _modules.get(".".join(parts[:i]))
        if replacement is not None:
            if i == len(parts):
                return replacement
            rest = ".".join(parts[i:])
            module: ModuleType = _import_module(
                module_name, f"{replacement.__name__}.{rest}"
            )
            return module
    return None


def _is_allowed(module_name: str) -> bool:
    names = {*_DEFAULT_ALLOWED, *_allowed}
    names.update(
        name.strip().strip(".")
        for name in os.environ.get(ALLOWED_TOPIC_MODULES, "").split(",")
        if name.strip().strip(".")
    )
    return any(
        module_name == name or module_name.startswith(name + ".") for name in names
    )


def _import_allowed(topic: str, module_name: str) -> Any:
    module = sys.modules.get(module_name)
    if module is not None:
        return module
    is_main = module_name.rpartition(".")[2] == "__main__"
    if is_main or not _is_allowed(module_name):
        reason = (
            "a __main__ module runs a program when imported"
            if is_main
            else "the module is neither imported nor allowed"
        )
        msg = (
            f"Stored topic {topic!r:.200} names the module {module_name!r:.100}, "
            f"which was not imported: {reason}. Import the module that defines the "
            "class before reading, or allow it with the environment variable "
            f"{ALLOWED_TOPIC_MODULES}={module_name.partition('.')[0]} (or "
            "eventsourcing.utils.allow_topic_modules())."
        )
        raise TopicError(msg)
    return _import_module(topic, module_name)


def _static_getattr(obj: Any, name: str) -> Any:
    # Looks in __dict__ only, as inspect.getattr_static does, so that no module
    # __getattr__, property or metaclass hook runs for data-supplied names.
    namespaces = obj.__mro__ if isinstance(obj, type) else (obj,)
    for namespace in namespaces:
        attrs = getattr(namespace, "__dict__", {})
        if name in attrs:
            return attrs[name]
    raise AttributeError(name)


def _walk(topic: str, module_name: str, module: Any, qualname: str, lookup: Any) -> Any:
    obj: Any = module
    done: list[str] = []
    for part in qualname.split(".") if qualname else []:
        try:
            obj = lookup(obj, part)
        except AttributeError:
            where = (
                f"{module_name}:{'.'.join(done)}" if done else f"module {module_name}"
            )
            hint = (
                "Objects defined inside a function ('<locals>') resolve only in the "
                "process that defined them: define the class at module level."
                if part == "<locals>"
                else "Was it renamed or moved? (eventsourcing.utils.register_topic() "
                "maps an old topic to the class.)"
            )
            msg = (
                f"Topic {topic!r:.200} does not resolve:"
                f" {where} has no attribute {part!r:.100}. {hint}"
            )
            raise TopicError(msg) from None
        done.append(part)
    return obj


def _import_module(topic: str, module_name: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name is not None and (module_name + ".").startswith(e.name + "."):
            msg = (
                f"Topic {topic!r} does not resolve: no module named {module_name!r}."
                " Is the distribution that provides it installed?"
            )
            raise TopicError(msg) from e
        raise


def _import_longest_prefix(topic: str) -> tuple[str, str, Any]:
    parts = topic.split(".")
    for i in range(len(parts), 0, -1):
        module_name = ".".join(parts[:i])
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name is not None and (module_name + ".").startswith(e.name + "."):
                continue
            raise
        return module_name, ".".join(parts[i:]), module
    msg = f"Topic {topic!r} does not resolve: no module named {parts[0]!r}."
    raise TopicError(msg)
