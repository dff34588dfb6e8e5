"""The engine: the loop, its state, and the tactics it calls by name."""
