"""Permissions are enforced in the services, whatever a page shows or hides."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from registry.accounts.models import User
from registry.certificates import lifecycle
from registry.certificates.models import Audit
from registry.errors import PermissionDenied
from registry.extensions import db
from registry.office import services
from tests.factories import make_certificate


def test_the_services_refuse_a_moderator_whatever_the_page_shows(app_ctx):
    certificate = make_certificate()
    moderator = User(email="m@x.test", password_hash="x", role="moderator")
    audit = Audit(company=certificate.company, scheme_id="gbt27922-2011", kind="initial", audited_on=dt.date(2026, 5, 1),
                  score=Decimal("85"), level="3", passed=True, formula_version="v1", special_deductions=0, bonus=0)
    db.session.add(audit)
    db.session.flush()
    with pytest.raises(PermissionDenied):
        services.issue_certificate(moderator, audit, scope="家电维修服务", service_sites=[], reason="颁证")
    with pytest.raises(PermissionDenied):
        lifecycle.suspend_certificate(certificate, reason="违规", until=dt.date(2026, 7, 1), actor=moderator)
    with pytest.raises(PermissionDenied):
        services.create_company(moderator, name="某公司", uscc=certificate.company.uscc, province="北京市",
                                industry="家电", enterprise_type="production")
    services.dashboard(moderator)  # reading is allowed


def test_the_services_refuse_a_company_account_even_for_reading(app_ctx):
    certificate = make_certificate()
    company_user = User(email="c@x.test", password_hash="x", role="company", company=certificate.company)
    with pytest.raises(PermissionDenied):
        services.dashboard(company_user)
    with pytest.raises(PermissionDenied):
        services.get_certificate(company_user, certificate.number)
