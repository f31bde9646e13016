"""Complaint fixtures and helpers: users signed in by Flask-Login's own session keys, real files."""
from __future__ import annotations

import io
import itertools

import pytest
from PIL import Image

from registry.accounts.models import User
from registry.extensions import db
from tests.factories import make_certificate
from tests.signing import sign_in_session

_n = itertools.count(1)


def make_user(role: str, company=None) -> User:
    user = User(email=f"{role}{next(_n)}@example.test", password_hash="x", role=role,
                company_id=company.id if company is not None else None)
    db.session.add(user)
    db.session.flush()
    return user


def png_bytes(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def filing_form(certificate_number: str, **overrides) -> dict:
    form = {
        "certificate": certificate_number, "category": "repair",
        "description": "空调安装后第三天就不制冷，维修师傅两次上门都没修好，客服不再回复。我叫王小明，电话13812345678，订单号 JD20260512998877。",
        "purchase_date": "2026-05-10", "order_number": "JD20260512998877", "desired_resolution": "exchange",
        "amount": "3999", "name": "王小明", "mobile": "138 1234 5678", "email": "", "consent": "y", "website": "",
    }
    form.update(overrides)
    return form


class World(dict):
    __getattr__ = dict.__getitem__


@pytest.fixture
def world(app):
    """Two companies, each with a certificate and a company account; a moderator and two officers (ids only)."""
    with app.app_context():
        cert_a = make_certificate(level="4")
        cert_b = make_certificate(level="3")
        users = {"company_a": make_user("company", cert_a.company), "company_b": make_user("company", cert_b.company),
                 "moderator": make_user("moderator"), "officer": make_user("officer"),
                 "officer2": make_user("officer")}
        db.session.commit()
        return World(cert_a=cert_a.number, cert_b=cert_b.number, cert_a_id=cert_a.id, cert_b_id=cert_b.id,
                     **{name: user.id for name, user in users.items()})


def sign_in(client, user_id: int) -> None:
    sign_in_session(client, user_id)


def file_via_client(client, certificate_number: str, **overrides) -> tuple[str, str]:
    """File through the real form; returns (tracking number, private link path)."""
    response = client.post("/complaints/new", data=filing_form(certificate_number, **overrides))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    import re
    link = re.search(r'href="(/complaints/TS[^"?]+\?token=[^"]+)"', page).group(1)
    tracking = link.split("/")[2].split("?")[0]
    return tracking, link.replace("&amp;", "&")
