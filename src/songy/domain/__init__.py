"""The pure core of Songy: entities, value objects, events, errors and use cases (no I/O)."""
