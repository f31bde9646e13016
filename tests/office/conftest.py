"""Back-office fixtures: one account per role, and signing a test client in as one of them."""
from __future__ import annotations

import pytest

from registry.accounts.models import Role, User
from registry.extensions import db
from tests.factories import make_certificate, make_company
from tests.signing import sign_in_session

PASSWORD = "correct horse battery staple"


def make_user(role: str, email: str | None = None, company=None) -> User:
    """A user with a real Argon2id hash of PASSWORD (hashed once per test session, it is slow on purpose)."""
    user = User(email=email or f"{role}@office.test", role=role, password_hash=_password_hash(), company=company,
                active=True)
    db.session.add(user)
    db.session.flush()
    return user


_HASH: list[str] = []


def _password_hash() -> str:
    if not _HASH:
        from registry.accounts.services import hash_password
        _HASH.append(hash_password(PASSWORD))
    return _HASH[0]


def sign_in(client, user_id: int) -> None:
    """Put the user in the session the way a real login does (the login page has its own tests)."""
    sign_in_session(client, user_id)


@pytest.fixture
def accounts(app):
    """{role: user id} for every role; the company account is bound to a company holding a certificate."""
    with app.app_context():
        company = make_company(name="账户绑定公司")
        make_certificate(company)
        ids = {role.value: make_user(role.value, company=company if role is Role.COMPANY else None).id for role in Role}
        db.session.commit()
    return ids


@pytest.fixture
def officer_client(app, client, accounts):
    sign_in(client, accounts["officer"])
    return client
