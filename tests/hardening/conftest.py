"""Hardening fixtures: staff and company accounts (real hashes), signed in through the real login form."""
from __future__ import annotations

import pytest

from registry.accounts.models import Role
from registry.extensions import db
from tests.factories import make_certificate, make_company
from tests.office.conftest import PASSWORD, make_user

__all__ = ["PASSWORD", "login"]


@pytest.fixture
def people(app):
    """{role: (user id, e-mail)} for every role; the company account holds a certificate."""
    with app.app_context():
        company = make_company(name="加固测试公司")
        certificate = make_certificate(company)
        found = {}
        for role in Role:
            user = make_user(role.value, email=f"{role.value}@harden.test",
                             company=company if role is Role.COMPANY else None)
            found[role.value] = (user.id, user.email)
        db.session.commit()
        found["certificate"] = certificate.number
        found["company_id"] = company.id
    return found


def login(client, email: str, password: str = PASSWORD, **extra):
    return client.post("/login", data={"email": email, "password": password, **extra})
