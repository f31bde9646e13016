"""The search outbox: a row per change that affects search, written in the same transaction as the change.

After commit an indexer applies pending rows (see registry.search); a crash between commit and indexing
loses nothing because the row is still there.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry import clock
from registry.extensions import db


class SearchOutbox(db.Model):
    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(20), default="certificate")
    entity_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)


def queue_certificate(certificate_id: int) -> None:
    """Ask the indexer to re-read this certificate (upsert or delete is decided when it is applied)."""
    db.session.add(SearchOutbox(entity="certificate", entity_id=certificate_id))
