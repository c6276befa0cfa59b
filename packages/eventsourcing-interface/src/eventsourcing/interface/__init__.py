"""The ``eventsourcing.interface`` module."""
