"""Complaints, their events and attachments, per-certificate monthly counters, and sanction proposals."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry import clock
from registry.accounts import models as _accounts  # noqa: F401  (user_account must exist for the foreign keys)
from registry.certificates.models import Certificate
from registry.extensions import db


class Complaint(db.Model):
    __tablename__ = "complaint"

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(20), unique=True)
    # SHA-256 of the consumer's secret link token: the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64))
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    # Copied from the certificate so a company's list filters on one indexed column.
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    purchase_date: Mapped[dt.date | None] = mapped_column(Date)
    order_number: Mapped[str] = mapped_column(String(80), default="")          # private
    desired_resolution: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    consumer_name: Mapped[str] = mapped_column(String(60))                     # private
    consumer_mobile: Mapped[str] = mapped_column(String(20))                   # private, E.164
    consumer_email: Mapped[str] = mapped_column(String(254), default="")       # private
    consented_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # The text the public may see once the complaint is closed; moderators edit it, masking runs again.
    public_summary: Mapped[str] = mapped_column(Text, default="")

    state: Mapped[str] = mapped_column(String(20), index=True)
    outcome: Mapped[str | None] = mapped_column(String(30))
    severity: Mapped[str | None] = mapped_column(String(10))
    rejection_reason: Mapped[str | None] = mapped_column(String(40))
    filed_on: Mapped[dt.date] = mapped_column(Date)
    clock_started_on: Mapped[dt.date] = mapped_column(Date)   # filing, or the consumer's added information
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    response_due_on: Mapped[dt.date | None] = mapped_column(Date)
    first_response_on: Mapped[dt.date | None] = mapped_column(Date)
    # The end of the current stage (None when the next move is the consumer's); overdue = due_on < today.
    due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    due_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    unanswered: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)
    # Optimistic lock: two moderators acting at once, the second flush finds the row changed and fails.
    version: Mapped[int] = mapped_column(Integer, default=1)

    certificate: Mapped[Certificate] = relationship()
    events: Mapped[list[ComplaintEvent]] = relationship(back_populates="complaint", order_by="ComplaintEvent.id")
    attachments: Mapped[list[ComplaintAttachment]] = relationship(back_populates="complaint",
                                                                  order_by="ComplaintAttachment.id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_complaint_cert_closed", "certificate_id", "closed_on", "id"),
        Index("ix_complaint_state_due", "state", "due_on"),
        # Open-complaint counts per certificate (procurement checks) without reading closed ones.
        Index("ix_complaint_cert_state", "certificate_id", "state"),
    )


class ComplaintEvent(db.Model):
    """One step in the resolution log: who (a role, never a person's name in public), when, what."""
    __tablename__ = "complaint_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)
    on: Mapped[dt.date] = mapped_column(Date)
    actor_role: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(30))
    state_after: Mapped[str] = mapped_column(String(20))
    # Safe for anyone (no personal data); shown in the public log of a closed complaint.
    public_text: Mapped[str] = mapped_column(Text, default="")
    # The message between the parties (a reply, a comment); seen by the consumer, the company once the
    # complaint is forwarded, and the body. `staff_only` notes are for the body alone.
    body: Mapped[str] = mapped_column(Text, default="")
    staff_only: Mapped[bool] = mapped_column(Boolean, default=False)

    complaint: Mapped[Complaint] = relationship(back_populates="events")


class ComplaintAttachment(db.Model):
    __tablename__ = "complaint_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("complaint_event.id"))
    uploaded_by_role: Mapped[str] = mapped_column(String(20))
    original_name: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)

    complaint: Mapped[Complaint] = relationship(back_populates="attachments")


class ComplaintMonthlyStat(db.Model):
    """Counters per certificate and calendar month, updated in the transaction of each event.

    The certificate page sums at most 12 rows instead of scanning the complaints.
    """
    __tablename__ = "complaint_monthly_stat"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"))
    month: Mapped[dt.date] = mapped_column(Date)
    received: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    answered_on_time: Mapped[int] = mapped_column(Integer, default=0)
    answered_late: Mapped[int] = mapped_column(Integer, default=0)
    unanswered: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)       # closed with an outcome other than withdrawn
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    upheld: Mapped[int] = mapped_column(Integer, default=0)       # upheld or partially upheld

    __table_args__ = (UniqueConstraint("certificate_id", "month", name="uq_complaint_monthly_stat_cert_month"),)


class SanctionProposal(db.Model):
    """A sanction the published rules call for, on its way through due process."""
    __tablename__ = "sanction_proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    rule_id: Mapped[str] = mapped_column(String(40))
    policy_version: Mapped[str] = mapped_column(String(20))
    points: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    complaint_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    tracking_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    # proposed → confirmed | rejected | superseded; confirmed → appealed → appeal_upheld | appeal_dismissed
    state: Mapped[str] = mapped_column(String(20), index=True, default="proposed")
    proposed_on: Mapped[dt.date] = mapped_column(Date)
    respond_by: Mapped[dt.date] = mapped_column(Date)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # the closing moderator
    company_response: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    level_before: Mapped[str | None] = mapped_column(String(20))
    level_after: Mapped[str | None] = mapped_column(String(20))
    appeal_text: Mapped[str] = mapped_column(Text, default="")
    appeal_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    appeal_reason: Mapped[str] = mapped_column(Text, default="")
    # Due process (issue 10): the ledger entry that applied the sanction (later entries may supersede it),
    # a provisional suspension during the hearing window, the appeal's dates and deadline, the suspension
    # end held while the appeal was pending, and the public note when a later decision superseded it.
    applied_seq: Mapped[int | None] = mapped_column(Integer)
    provisional_on: Mapped[dt.date | None] = mapped_column(Date)
    appealed_on: Mapped[dt.date | None] = mapped_column(Date)
    appeal_decide_by: Mapped[dt.date | None] = mapped_column(Date, index=True)
    appeal_decided_on: Mapped[dt.date | None] = mapped_column(Date)
    held_suspension_end: Mapped[dt.date | None] = mapped_column(Date)
    appeal_note: Mapped[str] = mapped_column(Text, default="")   # as written to the ledger (zh-Hans)
    # What the note is made of, so pages say it in the reader's language: the ledger kind of the later
    # decision and its day, or the certificate's status when it is no longer valid or suspended.
    appeal_superseded_by: Mapped[str | None] = mapped_column(String(40))
    appeal_superseded_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    certificate: Mapped[Certificate] = relationship()

    __mapper_args__ = {"version_id_col": version}


class HolidayDay(db.Model):
    """One day of the State Council's holiday schedule as the operator entered it (`flask holidays load`).

    Days not listed follow the week (Monday–Friday work); a year with any row counts as known, and an
    entered year wins over the calendar package.
    """
    __tablename__ = "holiday_day"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))        # "holiday" or "workday" (a make-up working day, 调休)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)
