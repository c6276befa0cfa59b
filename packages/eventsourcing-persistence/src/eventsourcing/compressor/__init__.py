"""The ``eventsourcing.compressor`` module."""
