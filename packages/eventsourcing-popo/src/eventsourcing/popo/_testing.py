"""What test suites need to know about the ``popo`` backend (the entry-point group
``eventsourcing.testing.environ``): it needs no settings, and keeps nothing when the
process ends."""

from __future__ import annotations

outlives_process = False
