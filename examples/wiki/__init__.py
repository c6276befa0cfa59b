"""The wiki application (section 1.5.10): pages that can be found by name through
index aggregates with name-based IDs, saved atomically with their pages."""
