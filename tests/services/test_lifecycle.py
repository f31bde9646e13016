"""Lifecycle services: transitions, permissions, ledger entries, and status on a past day."""
from __future__ import annotations

import datetime as dt

import pytest

from registry.accounts.models import Role, User
from registry.certificates import history, lifecycle
from registry.certificates.lifecycle import SYSTEM
from registry.errors import InvalidTransition, PermissionDenied, ValidationError
from registry.extensions import db
from tests.factories import make_certificate


def officer():
    return User(email="o@example.test", password_hash="x", role=Role.OFFICER.value)


def test_suspend_writes_ledger_and_changes_public_status(app_ctx):
    cert = make_certificate()
    lifecycle.record_event(cert, "issued", actor_role="officer", effective_on=cert.issued_on)
    entry = lifecycle.suspend_certificate(cert, reason="监督发现严重不符合", until=dt.date(2026, 9, 1), actor=officer())
    db.session.commit()
    assert cert.effective_status().value == "suspended"
    assert entry.kind == "suspended" and entry.status_after == "suspended" and entry.actor_role == "officer"


def test_suspension_longer_than_policy_is_refused(app_ctx):
    cert = make_certificate()
    with pytest.raises(ValidationError):
        lifecycle.suspend_certificate(cert, reason="原因", until=dt.date(2027, 1, 2), actor=officer())


def test_company_account_cannot_suspend(app_ctx):
    cert = make_certificate()
    company_user = User(email="c@example.test", password_hash="x", role=Role.COMPANY.value)
    with pytest.raises(PermissionDenied):
        lifecycle.suspend_certificate(cert, reason="原因", until=dt.date(2026, 7, 1), actor=company_user)


def test_revoked_certificate_cannot_be_restored(app_ctx):
    cert = make_certificate()
    lifecycle.revoke_certificate(cert, reason="严重违规", actor=SYSTEM)
    with pytest.raises(InvalidTransition):
        lifecycle.restore_certificate(cert, reason="误操作", actor=officer())


def test_level_on_a_past_day_comes_from_the_ledger(app_ctx):
    cert = make_certificate(level="5", issued_on=dt.date(2025, 9, 1))
    lifecycle.record_event(cert, "issued", actor_role="officer", effective_on=dt.date(2025, 9, 1))
    lifecycle.change_level(cert, new_level="4", reason="监督审核降级", actor=officer())  # today is 2026-06-01
    db.session.commit()
    assert history.status_on(cert, dt.date(2026, 1, 1)).level == "5"
    assert history.status_on(cert, dt.date(2026, 6, 1)).level == "4"
    before = history.status_on(cert, dt.date(2025, 8, 31))
    assert before.issued is False and before.status is None


def test_overdue_surveillance_shows_as_suspended_without_any_job(app_ctx):
    cert = make_certificate(issued_on=dt.date(2025, 3, 1))  # due 2026-03-01, today 2026-06-01
    db.session.commit()
    assert cert.surveillance_due_on == dt.date(2026, 3, 1)
    assert cert.effective_status().value == "suspended"
