"""Companies, certificates and audits."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import current_app, has_app_context
from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, Numeric, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from registry import clock
from registry.certificates.rules import (
    DEFAULT_POLICY,
    CertificateStatus,
    StatusPolicy,
    effective_status,
    surveillance_due_on,
)
from registry.extensions import db
from registry.schemes import Scheme, get_scheme


class Company(db.Model):
    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    # 统一社会信用代码, stored compact and upper-case (validated with python-stdnum).
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    former_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    province: Mapped[str] = mapped_column(String(20), index=True)
    city: Mapped[str] = mapped_column(String(40), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    industry: Mapped[str] = mapped_column(String(40), index=True)
    enterprise_type: Mapped[str] = mapped_column(String(20))  # EnterpriseType
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow, onupdate=clock.utcnow)

    certificates: Mapped[list[Certificate]] = relationship(back_populates="company", order_by="Certificate.issued_on")

    def __repr__(self) -> str:
        return f"<Company {self.uscc} {self.name}>"


class Certificate(db.Model):
    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    scheme_id: Mapped[str] = mapped_column(String(40), index=True)
    level: Mapped[str] = mapped_column(String(20), index=True)
    score: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    scope: Mapped[str] = mapped_column(Text, default="")
    service_sites: Mapped[list[str]] = mapped_column(JSON, default=list)
    issued_on: Mapped[dt.date] = mapped_column(Date, index=True)
    expires_on: Mapped[dt.date] = mapped_column(Date, index=True)
    first_issued_on: Mapped[dt.date] = mapped_column(Date)
    # Stored status is one of valid/suspended/revoked/withdrawn; "expired" is computed from expires_on.
    status: Mapped[str] = mapped_column(String(20), default=CertificateStatus.VALID.value, index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    status_changed_on: Mapped[dt.date | None] = mapped_column(Date)
    suspended_until: Mapped[dt.date | None] = mapped_column(Date)
    last_surveillance_on: Mapped[dt.date | None] = mapped_column(Date)
    # Derived from the last audit and the scheme's interval, stored so lists can filter on it in SQL;
    # kept right by the before-flush hook below, whoever writes the row.
    surveillance_due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    recertification_count: Mapped[int] = mapped_column(Integer, default=0)
    surveillance_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow, onupdate=clock.utcnow)

    company: Mapped[Company] = relationship(back_populates="certificates")
    audits: Mapped[list[Audit]] = relationship(back_populates="certificate", order_by="Audit.audited_on")

    @property
    def scheme(self) -> Scheme:
        scheme = get_scheme(self.scheme_id)
        if scheme is None:  # the import and services refuse unknown schemes, so this is a data error
            raise LookupError(f"certificate {self.number} has unknown scheme {self.scheme_id}")
        return scheme

    def effective_status(self, today: dt.date | None = None) -> CertificateStatus:
        """The public status on `today` (default: the registry's today), under the configured grace."""
        return effective_status(self.status, self.expires_on, today or clock.today(),
                                suspended_until=self.suspended_until,
                                surveillance_due_on=self.surveillance_due,
                                policy=status_policy())

    @property
    def last_audit_on(self) -> dt.date:
        return self.last_surveillance_on or self.issued_on

    @property
    def surveillance_due(self) -> dt.date:
        return surveillance_due_on(self.last_audit_on, self.scheme.surveillance_interval_months)

    def refresh_derived_dates(self) -> None:
        if self.issued_on is not None and self.scheme_id:
            self.surveillance_due_on = self.surveillance_due

    def __repr__(self) -> str:
        return f"<Certificate {self.number} {self.scheme_id}:{self.level} {self.status}>"


def status_policy() -> StatusPolicy:
    """The configured date policy (SURVEILLANCE_GRACE_DAYS, MAX_SUSPENSION_MONTHS); defaults without an app."""
    if not has_app_context():
        return DEFAULT_POLICY
    return StatusPolicy(surveillance_grace_days=int(current_app.config.get("SURVEILLANCE_GRACE_DAYS", 0)),
                        max_suspension_months=int(current_app.config.get("MAX_SUSPENSION_MONTHS", 6)))


def surveillance_grace_days() -> int:
    return status_policy().surveillance_grace_days


@event.listens_for(Session, "before_flush")
def _refresh_certificate_dates(session, _flush_context, _instances):
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Certificate):
            obj.refresh_derived_dates()


class Audit(db.Model):
    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"), index=True)
    scheme_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))  # AuditKind
    audited_on: Mapped[dt.date] = mapped_column(Date)
    # Raw inputs are kept apart so the score can be recomputed under a later formula version.
    indicator_scores: Mapped[list[dict] | None] = mapped_column(JSON)
    earned_points: Mapped[Decimal | None] = mapped_column(Numeric(9, 2))
    applicable_points: Mapped[Decimal | None] = mapped_column(Numeric(9, 2))
    special_deductions: Mapped[int] = mapped_column(Integer, default=0)
    bonus: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=0)
    score: Mapped[Decimal] = mapped_column(Numeric(7, 2))
    level: Mapped[str | None] = mapped_column(String(20))
    passed: Mapped[bool]
    formula_version: Mapped[str] = mapped_column(String(40))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)

    certificate: Mapped[Certificate | None] = relationship(back_populates="audits")
    company: Mapped[Company] = relationship()
