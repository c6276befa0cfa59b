"""The ``eventsourcing.testing`` module."""
