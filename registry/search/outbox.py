"""The search outbox: an append-only sequence of changes that affect search, written in the same transaction
as the change, and the cursor of every index that follows it.

Each index (one per host) records the last sequence number it applied in SearchCursor, keyed by the id kept
in its directory (INDEX_ID), so no host consumes another's updates. A row is pruned once every registered
index has passed it, or after SEARCH_OUTBOX_RETENTION_DAYS (an index that fell that far behind is marked
expired and rebuilds itself). A crash between commit and indexing loses nothing: the row is still there.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry import clock
from registry.extensions import db


class SearchOutbox(db.Model):
    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)  # the sequence number
    entity: Mapped[str] = mapped_column(String(20), default="certificate")
    entity_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)


class SearchCursor(db.Model):
    """How far one index has followed the outbox: every row with id <= last_seq is in it."""
    __tablename__ = "search_cursor"

    index_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(300), default="")  # host and directory, for the operator
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    expired: Mapped[bool] = mapped_column(Boolean, default=False)  # fell behind the retention: must rebuild
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)


def queue_certificate(certificate_id: int) -> None:
    """Ask the indexers to re-read this certificate (upsert or delete is decided when it is applied)."""
    db.session.add(SearchOutbox(entity="certificate", entity_id=certificate_id))
