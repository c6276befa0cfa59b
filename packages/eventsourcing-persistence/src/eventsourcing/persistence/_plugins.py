"""One cached loader for the plugins that distributions register through entry
points: persistence backends, ciphers and compressors."""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
from types import ModuleType
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence._errors import ConfigurationError
from eventsourcing.utils import resolve_topic

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = [
    "CIPHER_GROUP",
    "COMPRESSOR_GROUP",
    "INFRASTRUCTURE_GROUP",
    "entry_points",
    "installed_names",
    "load_plugin",
    "load_plugin_object",
]

INFRASTRUCTURE_GROUP = "eventsourcing.infrastructure"
CIPHER_GROUP = "eventsourcing.cipher"
COMPRESSOR_GROUP = "eventsourcing.compressor"

# What each group holds, and where its built-in members come from.
_KINDS = {
    INFRASTRUCTURE_GROUP: (
        "persistence backend",
        (
            "The built-in backends come from eventsourcing-popo, "
            "eventsourcing-sqlite and eventsourcing-postgres."
        ),
    ),
    CIPHER_GROUP: (
        "cipher",
        "The built-in cipher 'aes' comes from eventsourcing-cipher.",
    ),
    COMPRESSOR_GROUP: (
        "compressor",
        "The built-in compressor 'zlib' comes from eventsourcing-persistence.",
    ),
}


@functools.cache
def entry_points(group: str) -> dict[str, tuple[EntryPoint, ...]]:
    """Returns the entry points of ``group`` by name (several when several
    distributions claim one name).

    Cached: call ``entry_points.cache_clear()`` after installing a distribution into
    a running interpreter.
    """
    found: dict[str, list[EntryPoint]] = {}
    for entry_point in importlib.metadata.entry_points(group=group):
        found.setdefault(entry_point.name, []).append(entry_point)
    return {name: tuple(eps) for name, eps in found.items()}


def installed_names(group: str) -> list[str]:
    """Returns the sorted names registered in the entry-point ``group``."""
    return sorted(entry_points(group))


# Returns type[Any] because mypy refuses abstract classes where type[T] is expected.
def load_plugin(group: str, value: str, base: type[Any], variable: str) -> type[Any]:
    """Returns the subclass of ``base`` that ``value`` names, read from the
    environment variable ``variable``.

    ``value`` is the name of an entry point in ``group`` (``"sqlite"``), a topic
    (``"eventsourcing.sqlite:Factory"``), or the name of a module that defines
    the class as ``Factory`` (``"eventsourcing.sqlite"``, as later releases of the
    original library write it). Raises :class:`ConfigurationError` when the name is
    unknown or claimed by several distributions, when loading fails and when the
    loaded object is not a subclass of ``base``.
    """
    noun, _ = _KINDS[group]
    obj = load_plugin_object(group, value, variable)
    if isinstance(obj, ModuleType):
        obj = getattr(obj, "Factory", obj)
    if not (isinstance(obj, type) and issubclass(obj, base)):
        msg = (
            f"{variable}={value!r} gives {obj!r}, which is not a subclass of "
            f"{base.__module__}.{base.__qualname__}. Name a {noun} class instead."
        )
        raise ConfigurationError(msg)
    return obj


def load_plugin_object(group: str, value: str, variable: str) -> Any:
    """Returns what ``value`` names: an entry point of ``group``, a topic, or a
    module (see :func:`load_plugin`), without checking its type."""
    noun, hint = _KINDS[group]
    if ":" in value:
        try:
            return resolve_topic(value)
        except Exception as e:
            msg = (
                f"Could not resolve the topic {value!r} given by {variable} to a "
                f"{noun}: {e}. A topic has the form 'package.module:Class'; "
                f"installed names of the entry-point group {group!r} are also accepted "
                f"({_installed(group)})."
            )
            raise ConfigurationError(msg) from e
    candidates = entry_points(group).get(value)
    if candidates is None:
        module = _import_module(value, noun, variable)
        if module is not None:
            return module
        msg = (
            f"No {noun} {value!r} (installed: {_installed(group)}). "
            "Is it misspelled, or is its distribution not installed? "
            f"{hint} ({variable} takes a name from the entry-point group "
            f"{group!r} or a topic such as 'package.module:Class'.)"
        )
        raise ConfigurationError(msg)
    distributions = sorted({_distribution_name(ep) for ep in candidates})
    if len(distributions) > 1:
        msg = (
            f"The {noun} name {value!r} is claimed by several installed "
            f"distributions ({', '.join(distributions)}) in the entry-point group "
            f"{group!r}. Uninstall all but one of them, or set {variable} to a "
            f"topic instead: {', '.join(repr(ep.value) for ep in candidates)}."
        )
        raise ConfigurationError(msg)
    entry_point = candidates[0]
    try:
        return entry_point.load()
    except Exception as e:
        msg = (
            f"Could not load the {noun} {value!r} ({entry_point.value!r}, from "
            f"{distributions[0]}): {e}. Is its distribution installed correctly?"
        )
        raise ConfigurationError(msg) from e


def _import_module(name: str, noun: str, variable: str) -> ModuleType | None:
    """The module named ``name``, or ``None`` when there is no such module."""
    try:
        if not name or importlib.util.find_spec(name) is None:
            return None
    except (ImportError, ValueError):
        return None  # a parent package is missing, or the name is not a module's
    try:
        return importlib.import_module(name)
    except Exception as e:
        msg = (
            f"Could not import the module {name!r} given by {variable} as a {noun}: {e}"
        )
        raise ConfigurationError(msg) from e


def _installed(group: str) -> str:
    return ", ".join(installed_names(group)) or "none"


def _distribution_name(entry_point: EntryPoint) -> str:
    dist = entry_point.dist
    # Entry points read from installed distributions always carry their distribution.
    return dist.name if dist is not None else "<unknown distribution>"
