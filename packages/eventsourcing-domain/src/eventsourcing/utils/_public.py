"""Public names report their public module, and modules report their version."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib.metadata import version
from typing import Any


def publish(module_name: str, namespace: dict[str, Any]) -> None:
    """Make the classes and functions in ``namespace["__all__"]`` that are defined
    in private submodules of ``module_name`` report ``module_name`` as theirs.

    Tracebacks and reprs then show the path users import from
    (``eventsourcing.persistence.ConfigurationError``), and the topics of library
    classes that get stored (``eventsourcing.domain:Snapshot``) are the public
    ones, which any release can resolve.
    """
    private_prefix = module_name + "._"
    moved: list[type] = []
    for name in namespace["__all__"]:
        obj = namespace[name]
        if (isinstance(obj, type) or inspect.isfunction(obj)) and (
            obj.__module__.startswith(private_prefix)
        ):
            _move(obj, module_name, moved)
    for cls in moved:
        # Subscripted bases (``AggregateEvent[TAggregate]``) copied the private
        # module of their class when they were made.
        for base in getattr(cls, "__orig_bases__", ()):
            origin = getattr(base, "__origin__", None)
            if origin is not None and base.__module__ != origin.__module__:
                base.__module__ = origin.__module__


def _move(obj: Any, module_name: str, moved: list[type]) -> None:
    old = obj.__module__
    obj.__module__ = module_name
    if isinstance(obj, type):
        moved.append(obj)
        for value in vars(obj).values():
            if (
                isinstance(value, type)
                and value.__module__ == old
                and value.__qualname__.startswith(obj.__qualname__ + ".")
            ):
                _move(value, module_name, moved)


def version_getter(distribution: str) -> Callable[[str], Any]:
    """Return a module ``__getattr__`` that answers ``__version__`` with the
    installed version of ``distribution``, read only when asked for."""

    def __getattr__(name: str) -> Any:  # noqa: N807 (the module hook's name)
        if name == "__version__":
            return version(distribution)
        msg = f"module has no attribute {name!r}"
        raise AttributeError(msg)

    return __getattr__
