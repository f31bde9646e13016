"""CLI commands of this domain (none yet)."""
cli = None
