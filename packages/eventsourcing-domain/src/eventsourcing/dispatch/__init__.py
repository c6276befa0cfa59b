"""Single dispatch on an argument's type, for aggregate ``apply()`` and policies."""

from typing import TYPE_CHECKING

from eventsourcing.dispatch._singledispatch import singledispatchmethod
from eventsourcing.utils import publish, version_getter

__all__ = ["singledispatchmethod"]

publish(__name__, globals())
if TYPE_CHECKING:
    __version__: str
else:
    __getattr__ = version_getter("eventsourcing-domain")
