"""Topics: strings of the form ``"module:qualname"`` that locate classes and objects."""

from __future__ import annotations

import importlib
from typing import Any


class TopicError(ValueError):
    """Raised when a topic cannot be resolved to a Python object."""


def get_topic(cls: type) -> str:
    """Return the topic (``"module:qualname"``) that locates the given class."""
    return f"{cls.__module__}:{cls.__qualname__}"


def resolve_topic(topic: str) -> Any:
    """Return the object located by the given topic.

    A topic is ``"module:qualname"``, where the qualified name may name a nested
    class (``"eventsourcing.domain:Aggregate.Created"``). A dotted path without a
    colon (``"datetime.timezone.utc"``) is also accepted: its longest importable
    prefix is taken as the module. Raises :class:`TopicError` when nothing is found.
    """
    if not isinstance(topic, str) or not topic:
        msg = f"Topic must be a non-empty string like 'module:QualName', not {topic!r}"
        raise TopicError(msg)
    if ":" in topic:
        module_name, _, qualname = topic.partition(":")
        module = _import_module(topic, module_name)
    else:
        module_name, qualname, module = _import_longest_prefix(topic)
    obj: Any = module
    done: list[str] = []
    for part in qualname.split(".") if qualname else []:
        try:
            obj = getattr(obj, part)
        except AttributeError:
            where = (
                f"{module_name}:{'.'.join(done)}" if done else f"module {module_name}"
            )
            hint = (
                "Objects defined inside a function ('<locals>') cannot be resolved:"
                " define the class at module level."
                if part == "<locals>"
                else "Was it renamed or moved?"
            )
            msg = (
                f"Topic {topic!r} does not resolve:"
                f" {where} has no attribute {part!r}. {hint}"
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
