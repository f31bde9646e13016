"""Full-text search: a Whoosh index derived from the database through the outbox."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Hook the indexer into the app (applied after each commit in the embedded default)."""
