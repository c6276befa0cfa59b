"""The ``eventsourcing.popo`` module."""
