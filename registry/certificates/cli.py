"""Import of an existing register (not yet)."""
cli = None
