"""Signing in: a sign-in link on every public page, and each role lands on its own home."""
from __future__ import annotations

import datetime as dt

import pytest

from registry.certificates import lifecycle
from registry.certificates.lifecycle import SYSTEM
from registry.extensions import db
from tests.factories import make_certificate, make_company
from tests.office.conftest import PASSWORD, make_user

PUBLIC_PAGES = ["/", "/certificates", "/search?q=家电", "/verify/bulk", "/certificates/lookup?q=翎晟", "/v/99925SV99999R0",
                "/verify/receipt", "/complaints/rules", "/policy", "/complaints/new"]


@pytest.fixture
def homes(app):
    with app.app_context():
        company = make_company(name="账户绑定公司")
        valid = make_certificate(company)
        suspended = make_certificate(company)
        lifecycle.suspend_certificate(suspended, reason="监督审核发现问题", until=dt.date(2026, 8, 1), actor=SYSTEM)
        for role in ("officer", "moderator", "admin"):
            make_user(role)
        make_user("company", company=company)
        db.session.commit()
        return {"valid": valid.number, "suspended": suspended.number}


@pytest.mark.parametrize("path", PUBLIC_PAGES)
@pytest.mark.parametrize("lang, word", [("zh-Hans", "登录"), ("en", "Sign in")])
def test_every_public_page_has_a_sign_in_link(client, path, lang, word):
    response = client.get(path + ("&" if "?" in path else "?") + f"lang={lang}")
    page = response.get_data(as_text=True)
    assert response.status_code < 500
    assert f'<a class="sign-in" href="/login">{word}</a>' in page, path


@pytest.mark.parametrize("role, home", [("company", "/certificates/ours"), ("moderator", "/complaints/queue"),
                                        ("officer", "/office"), ("admin", "/office")])
def test_each_role_lands_on_its_own_home(client, homes, role, home):
    response = client.post("/login", data={"email": f"{role}@office.test", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == home
    assert client.get(home).status_code == 200


def test_company_home_lists_its_certificates_with_status_due_date_and_files(client, homes):
    client.post("/login", data={"email": "company@office.test", "password": PASSWORD})
    page = client.get("/certificates/ours?lang=en").get_data(as_text=True)
    assert homes["valid"] in page and homes["suspended"] in page
    assert "Surveillance due" in page and "Suspended" in page
    assert f"/certificates/{homes['valid']}/qr.svg" in page and f"/certificates/{homes['valid']}/mark.png" in page
    assert f"/certificates/{homes['suspended']}/mark.svg" not in page  # no mark while suspended
    assert "0 complaints wait for your answer" in page and "0 open sanction proposals" in page


def test_officer_home_shows_due_surveillance_and_proposals_to_decide(client, homes):
    client.post("/login", data={"email": "officer@office.test", "password": PASSWORD})
    page = client.get("/office?lang=en").get_data(as_text=True)
    assert "Sanction proposals waiting for a decision" in page and "Surveillance due" in page


def test_company_home_is_refused_to_other_roles_and_asks_strangers_to_sign_in(client, homes):
    assert client.get("/certificates/ours").status_code in (302, 401)
    client.post("/login", data={"email": "moderator@office.test", "password": PASSWORD})
    assert client.get("/certificates/ours").status_code == 403
