"""Fixtures for the verification tests: certificates with a recorded history, decoding, signed-in staff."""
from __future__ import annotations

import datetime as dt
import io
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image

from registry.accounts.models import User
from registry.certificates import lifecycle
from registry.extensions import db
from tests.factories import make_certificate, make_company
from tests.signing import sign_in_session

BASE = "https://registry.test"  # PUBLIC_BASE_URL in tests/conftest.py


def decode_qr(png_bytes: bytes) -> str:
    """The text of the one QR code in a PNG, read by zxing-cpp (an independent decoder)."""
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png_bytes)).convert("RGB"))
    assert len(results) == 1, f"expected one QR code, found {len(results)}"
    return results[0].text


def local_path(url: str) -> str:
    """The path and query of an absolute registry URL, to follow with the test client."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == BASE
    return parts.path + ("?" + parts.query if parts.query else "")


def issued(level="4", issued_on=dt.date(2025, 9, 1), company=None, **overrides):
    """A certificate with its 'issued' ledger entry, as the back office would leave it."""
    certificate = make_certificate(company, level=level, issued_on=issued_on, **overrides)
    lifecycle.record_event(certificate, "issued", actor_role="officer", effective_on=issued_on)
    return certificate


@pytest.fixture
def five_star(app_ctx):
    certificate = issued(level="5", company=make_company(name="青岛海澜家电有限公司"), number="99925SV00042R0")
    db.session.commit()
    return certificate.number


def sign_in(client, app, role: str, email: str | None = None) -> None:
    """Sign a user of `role` in through Flask-Login's session keys (the login page is not ours)."""
    with app.app_context():
        user = User(email=email or f"{role}@example.test", password_hash="x", role=role)
        db.session.add(user)
        db.session.commit()
        user_id = user.id
    sign_in_session(client, user_id)
