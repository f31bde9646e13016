"""The certification body back office."""
