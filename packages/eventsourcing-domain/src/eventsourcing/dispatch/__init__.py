"""Single dispatch on an argument's type, for aggregate ``apply()`` and policies."""

from eventsourcing.dispatch._singledispatch import singledispatchmethod

__all__ = ["singledispatchmethod"]
