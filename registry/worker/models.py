"""What the worker records in the database: its heartbeat and the days whose tick has run."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry import clock
from registry.extensions import db


class WorkerHeartbeat(db.Model):
    """One row per worker (by name, default the host name), written on every loop: /healthz reads its age."""
    __tablename__ = "worker_heartbeat"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    index_id: Mapped[str] = mapped_column(String(64), default="", index=True)  # the search index it follows
    pid: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)
    beat_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)


class TickRun(db.Model):
    """The daily tick of one day: the primary key makes sure only one worker runs it."""
    __tablename__ = "tick_run"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    worker: Mapped[str] = mapped_column(String(200), default="")
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)
    summary: Mapped[str] = mapped_column(String(300), default="")
