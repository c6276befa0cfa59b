"""Example third-party persistence backend for eventsourcing: each application's
events in an append-only file of JSON lines (entry point ``jsonlines``)."""

from eventsourcing_jsonlines._factory import Factory
from eventsourcing_jsonlines._recorders import (
    JSONLinesAggregateRecorder,
    JSONLinesApplicationRecorder,
    JSONLinesProcessRecorder,
)
from eventsourcing_jsonlines._tracking import JSONLinesTrackingRecorder

__all__ = [
    "Factory",
    "JSONLinesAggregateRecorder",
    "JSONLinesApplicationRecorder",
    "JSONLinesProcessRecorder",
    "JSONLinesTrackingRecorder",
]
