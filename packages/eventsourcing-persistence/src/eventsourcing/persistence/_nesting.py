"""Bounds on how deeply JSON nests: an exact depth scan, a cheap upper bound that
spares most texts the scan, and room on the stack to encode or decode data nested
up to the limit from deep in the stack."""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import accumulate

__all__ = ["more_openers_than", "nesting_depth", "recursion_headroom"]


def more_openers_than(limit: int, text: str) -> bool:
    """Whether text has more than ``limit`` brackets that open arrays or objects,
    counting those in strings too."""
    # str.find() skips ahead with memchr() but str.count() looks at each character,
    # so a few finds settle the common case of few brackets and long strings.
    found = 0
    for opener in "[{":
        i = text.find(opener)
        while i != -1:
            found += 1
            if found > _FEW_OPENERS:
                return text.count("[") + text.count("{") > limit
            i = text.find(opener, i + 1)
    return found > limit


_FEW_OPENERS = 8

# A JSON string, escapes included: its brackets do not nest anything. Possessive, and
# an unterminated string runs to the end, so that hostile text takes linear time.
_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON text."""
    brackets = _NOT_BRACKETS.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


# sys.setrecursionlimit() is process-wide: one thread at a time raises and restores it.
_headroom_lock = threading.RLock()


@contextmanager
def recursion_headroom(levels: int) -> Iterator[None]:
    """Raises the recursion limit by ``levels`` (and a margin for the transcodings'
    own calls) for the duration of the block."""
    with _headroom_lock:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(limit + levels + 100)
        try:
            yield
        finally:
            sys.setrecursionlimit(limit)
