"""procurement domain."""
