"""A parking lot example of our own: a long-lived aggregate with many events, so the
application snapshots it automatically, and a versioned model whose old snapshots
and events are upcast."""
