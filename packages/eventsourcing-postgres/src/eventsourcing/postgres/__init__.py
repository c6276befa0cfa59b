"""The ``eventsourcing.postgres`` module."""
