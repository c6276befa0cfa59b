"""The ``eventsourcing.sqlite`` module."""
