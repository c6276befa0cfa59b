"""A ``singledispatchmethod`` that also accepts forward references in annotations."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class singledispatchmethod(functools.singledispatchmethod[T]):  # noqa: N801  (mirrors functools)
    """Single-dispatch generic method, dispatching on the type of the first argument after ``self``.

    It works like :class:`functools.singledispatchmethod`. In addition, an
    implementation registered by annotation (``@apply.register`` over
    ``def _(self, event: "Cargo.Event")``) may refer to a class that is not yet
    defined, such as the enclosing aggregate class: such registrations are
    completed on first use.
    """

    def __init__(self, func: Callable[..., T]) -> None:
        super().__init__(func)
        self._deferred: list[Callable[..., T]] = []

    def register(
        self, cls: Any, method: Callable[..., T] | None = None
    ) -> Any:
        """Register an implementation for a class, or for the class its annotation names."""
        if isinstance(cls, type) or method is not None:
            return self.dispatcher.register(cls, func=method)
        try:
            return self.dispatcher.register(cls)
        except NameError:
            self._deferred.append(cls)
            return cls

    def __get__(self, obj: Any, cls: type[Any] | None = None) -> Callable[..., T]:
        while self._deferred:
            func = self._deferred[0]
            try:
                self.dispatcher.register(func)
            except NameError as e:
                msg = (
                    f"Cannot register {func.__qualname__}() with singledispatchmethod:"
                    f" its annotation names an undefined class ({e})"
                )
                raise TypeError(msg) from e
            self._deferred.pop(0)
        return super().__get__(obj, cls)
