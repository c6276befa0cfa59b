"""Single dispatch on the type of an argument, for aggregate ``apply()`` methods and policies."""

from eventsourcing.dispatch._singledispatch import singledispatchmethod

__all__ = ["singledispatchmethod"]
