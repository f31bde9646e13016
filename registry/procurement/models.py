"""Watchlists: a stored list of USCCs behind an unguessable id, read as an Atom feed (no account)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from registry import clock
from registry.extensions import db


class Watchlist(db.Model):
    __tablename__ = "watchlist"

    id: Mapped[int] = mapped_column(primary_key=True)
    # secrets.token_urlsafe(24): 192 random bits, the only thing that grants access to the list.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    usccs: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)
