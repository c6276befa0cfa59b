"""The ``eventsourcing.system`` module."""
