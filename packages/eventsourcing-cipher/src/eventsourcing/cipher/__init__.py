"""The ``eventsourcing.cipher`` module."""
