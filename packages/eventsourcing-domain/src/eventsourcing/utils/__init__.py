"""The ``eventsourcing.utils`` module."""
