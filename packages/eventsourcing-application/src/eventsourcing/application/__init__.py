"""The ``eventsourcing.application`` module."""
