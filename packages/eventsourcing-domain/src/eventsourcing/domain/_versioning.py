"""Upcasting: bring the stored state of an old version of a class up to date."""

from __future__ import annotations

from typing import Any


def upcast_state(cls: type, state: dict[str, Any]) -> None:
    """Upcast ``state``, stored by an older version of ``cls``, in place.

    Pops ``"class_version"`` from the state (absent means 1) and calls the static
    methods ``cls.upcast_vX_vY(state)`` in turn, from that version up to
    ``cls.class_version`` (default 1).
    """
    version = state.pop("class_version", 1)
    target = getattr(cls, "class_version", 1)
    if version > target:
        msg = (
            f"Cannot upcast state of {cls.__qualname__} stored at class_version"
            f" {version}: the class is at class_version {target} (older code?)"
        )
        raise TypeError(msg)
    while version < target:
        name = f"upcast_v{version}_v{version + 1}"
        upcast = getattr(cls, name, None)
        if upcast is None:
            msg = (
                f"Cannot upcast state of {cls.__qualname__} from class_version"
                f" {version} to {target}: define the static method {name}(state)"
            )
            raise TypeError(msg)
        upcast(state)
        version += 1
