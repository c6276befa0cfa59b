"""A ``singledispatchmethod`` that also accepts forward references in annotations."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

_F = TypeVar("_F", bound=Callable[..., Any])

if TYPE_CHECKING:
    _Base = functools.singledispatchmethod[Any]
else:  # functools.singledispatchmethod is not subscriptable at run time
    _Base = functools.singledispatchmethod


class singledispatchmethod(_Base):  # noqa: N801  (the name of functools' class)
    """Single-dispatch generic method: dispatches on the type of the first argument.

    It works like :class:`functools.singledispatchmethod`. In addition, an
    implementation registered by its annotation (``@apply.register`` over
    ``def _(self, event: Cargo.Event)``) may name a class that does not exist
    yet, such as the enclosing aggregate class: such registrations are completed
    on first use.
    """

    def __init__(self, func: Callable[..., Any]) -> None:
        super().__init__(func)
        self._deferred: list[Callable[..., Any]] = []

    @overload  # type: ignore[override]  # one implementation serves typeshed's overloads
    def register(self, cls: type[Any], method: None = None) -> Callable[[_F], _F]: ...

    @overload
    def register(self, cls: _F, method: None = None) -> _F: ...

    @overload
    def register(self, cls: type[Any], method: _F) -> _F: ...

    def register(self, cls: Any, method: Callable[..., Any] | None = None) -> Any:
        """Register an implementation for a class, or for its annotated class."""
        if isinstance(cls, type) or method is not None:
            return self.dispatcher.register(cls, func=method)
        try:
            return self.dispatcher.register(cls)
        except NameError:
            self._deferred.append(cls)
            return cls

    def __get__(self, obj: Any, cls: type[Any] | None = None) -> Callable[..., Any]:
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
