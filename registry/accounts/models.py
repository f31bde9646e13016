"""Accounts: staff of the certification body and company accounts bound to one company."""
from __future__ import annotations

import datetime as dt
import enum

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry import clock
from registry.certificates.models import Company
from registry.extensions import db


class Role(enum.StrEnum):
    ADMIN = "admin"
    OFFICER = "officer"        # certification decisions
    MODERATOR = "moderator"    # complaints
    COMPANY = "company"        # bound to one company


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)

    company: Mapped[Company | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def has_role(self, *roles: Role | str) -> bool:
        return self.role in {str(r) for r in roles}


class UserSession(db.Model):
    """One signed-in browser: the cookie carries a random token, the row its hash (server-side validity).

    A request counts as signed in only while its row exists and still matches the account's role, so
    signing out, "sign out everywhere", a password change, a role change and disabling the account each
    end sessions at once, including a cookie copied before.
    """
    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class StaffAuditEntry(db.Model):
    """Who did what in the back office, moderation and sign-in: not public, read by admins only.

    The public ledger keeps the role of whoever acted; this log keeps the person (id and the e-mail it
    had then, so the entry still names them if the account is later renamed or removed).
    """
    __tablename__ = "staff_audit_entry"
    __table_args__ = (Index("ix_staff_audit_entry_email_action_at", "email", "action", "at"),
                      Index("ix_staff_audit_entry_user_id_at", "user_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(254), default="")
    role: Mapped[str] = mapped_column(String(20), default="")
    # "sign_in", "sign_in_failed", "sign_in_delayed", "sign_out", "sign_out_everywhere", or an endpoint.
    action: Mapped[str] = mapped_column(String(80))
    method: Mapped[str] = mapped_column(String(10), default="")
    path: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[int | None] = mapped_column(Integer)
    ip: Mapped[str] = mapped_column(String(64), default="")
    # The rows the action wrote ({"certificate": [12], "ledger_entry": [88]}) and its URL parameters.
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
