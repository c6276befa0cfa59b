"""A retry decorator, for operations that may fail transiently."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, ParamSpec, TypeVar, overload

P = ParamSpec("P")
R = TypeVar("R")

ExceptionTypes = type[BaseException] | Sequence[type[BaseException]]


# An exception class is callable too, so the overloads overlap; the first one wins
# for exception classes, both in mypy and in the runtime check below.
@overload
def retry(  # type: ignore[overload-overlap]
    exc: ExceptionTypes = Exception,
    max_attempts: int = 1,
    wait: float = 0,
    stall: float = 0,
    verbose: bool = False,
) -> Callable[[Callable[P, R]], Callable[P, R]]: ...


@overload
def retry(exc: Callable[P, R]) -> Callable[P, R]: ...


def retry(
    exc: ExceptionTypes | Callable[..., Any] = Exception,
    max_attempts: int = 1,
    wait: float = 0,
    stall: float = 0,
    verbose: bool = False,
) -> Any:
    """Retry decorator: calls the function again when it raises one of ``exc``.

    :param exc: exception class (or sequence of classes) that cause a retry.
    :param max_attempts: maximum number of attempts in all (1 means no retry).
    :param wait: seconds to wait before each retry.
    :param stall: seconds to wait before the first attempt.
    :param verbose: if true, print a message to STDOUT before each retry.

    Usable bare (``@retry``) or with arguments (``@retry(KeyError, max_attempts=3)``).
    The decorated function returns what the wrapped function returns; after the
    last failed attempt the exception propagates.
    """
    if _is_exception_class(exc):
        exceptions: tuple[type[BaseException], ...] = (exc,)  # type: ignore[assignment]  # narrowed by _is_exception_class
    elif isinstance(exc, Sequence) and not isinstance(exc, str):
        exceptions = tuple(exc)
        for e in exceptions:
            if not _is_exception_class(e):
                msg = f"retry() expects exception classes, got {e!r} in {exc!r}"
                raise TypeError(msg)
    elif callable(exc):
        return retry()(exc)
    else:
        msg = (
            "retry() expects an exception class, a sequence of them, or a function;"
            f" got {exc!r}"
        )
        raise TypeError(msg)
    if max_attempts < 1:
        msg = f"retry() needs max_attempts >= 1, got {max_attempts}"
        raise ValueError(msg)

    def decorator(func: Callable[P, R]) -> Callable[P, R]:
        name = getattr(func, "__qualname__", repr(func))

        @wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if stall:
                time.sleep(stall)
            attempts = 0
            while True:
                attempts += 1
                try:
                    return func(*args, **kwargs)
                except exceptions as e:
                    if attempts >= max_attempts:
                        raise
                    if verbose:
                        print(
                            f"{e!r} raised by {name}: retrying in {wait}s"
                            f" (attempt {attempts + 1} of {max_attempts})"
                        )
                    if wait:
                        time.sleep(wait)

        return wrapper

    return decorator


def _is_exception_class(obj: object) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseException)
