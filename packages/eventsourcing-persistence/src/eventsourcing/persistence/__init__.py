"""The ``eventsourcing.persistence`` module."""
