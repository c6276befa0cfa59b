"""The ``eventsourcing.domain`` module."""
