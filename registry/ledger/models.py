"""The public ledger: an append-only, hash-chained history of everything the public sees change."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from registry.extensions import db


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entry"

    # The sequence is assigned as previous + 1, never by the database: two writers that read the same
    # head both try the same seq, and the primary key lets only one of them through (no fork).
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"), index=True)
    certificate_number: Mapped[str | None] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    # The day the event takes effect (a back-dated import, a suspension from a given date).
    effective_on: Mapped[dt.date] = mapped_column(Date, index=True)
    # Status and level of the certificate after this event, so any past day can be reconstructed.
    status_after: Mapped[str | None] = mapped_column(String(20))
    level_after: Mapped[str | None] = mapped_column(String(20))
    scheme_id: Mapped[str | None] = mapped_column(String(40))
    public_text: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_role: Mapped[str] = mapped_column(String(20))  # never a person's name
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class LedgerIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete a ledger entry through the ORM (a bug, never user input)."""


@event.listens_for(Session, "before_flush")
def _refuse_ledger_changes(session, _flush_context, _instances):
    """The ORM half of "no update or delete path": a modified or deleted entry stops the flush."""
    for entry in session.deleted:
        if isinstance(entry, LedgerEntry):
            raise LedgerIsAppendOnly(f"ledger entry #{entry.seq} cannot be deleted")
    for entry in session.dirty:
        if isinstance(entry, LedgerEntry) and session.is_modified(entry):
            raise LedgerIsAppendOnly(f"ledger entry #{entry.seq} cannot be changed")
