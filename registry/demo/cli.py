"""Demo data CLI (not yet)."""
cli = None
