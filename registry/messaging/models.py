"""The message outbox: every outgoing SMS and e-mail is a row written in the same transaction as the change
that causes it, so a message is never lost between commit and send, and never sent for a rolled-back change."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry import clock
from registry.extensions import db


class MessageStatus(enum.StrEnum):
    PENDING = "pending"    # waiting for its first or next attempt (next_attempt_at)
    SENDING = "sending"    # claimed by one worker until lease_until (a crashed worker's claim runs out)
    SENT = "sent"
    FAILED = "failed"      # every attempt failed: staff see it on the office page and may retry


class OutgoingMessage(db.Model):
    __tablename__ = "outgoing_message"
    __table_args__ = (Index("ix_outgoing_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))          # "sms" or "email"
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=MessageStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32), index=True)
    claimed_by: Mapped[str] = mapped_column(String(200), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
