"""The ``eventsourcing.dispatch`` module."""
