"""The cargo shipping example (section 1.9.2), after the DDD sample application: a
booking application for ``Cargo`` aggregates, and a booking service interface that
presents it with simple types."""
