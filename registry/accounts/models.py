"""Accounts: staff of the certification body and company accounts bound to one company."""
from __future__ import annotations

import datetime as dt
import enum

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, String
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
