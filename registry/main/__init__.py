"""main domain."""
