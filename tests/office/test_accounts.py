"""Accounts: login with a generic error, safe redirects, rate limit, logout, password change, CLI."""
from __future__ import annotations

import shutil

from sqlalchemy import select

from registry.accounts.models import User
from registry.extensions import db
from tests.conftest import make_app
from tests.factories import make_certificate
from tests.office.conftest import PASSWORD, make_user


def test_officer_signs_in_and_lands_on_the_back_office(app, client, accounts):
    response = client.post("/login", data={"email": "officer@office.test", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/office"
    assert "待办" in client.get("/office").get_data(as_text=True) or client.get("/office").status_code == 200


def test_email_is_matched_without_regard_to_case_and_spaces(client, accounts):
    response = client.post("/login", data={"email": "  Officer@Office.TEST ", "password": PASSWORD})
    assert response.status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_message(client, accounts):
    wrong = client.post("/login", data={"email": "officer@office.test", "password": "nope-nope-nope"})
    unknown = client.post("/login", data={"email": "nobody@office.test", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    message = "电子邮箱或密码不正确"
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_disabled_account_cannot_sign_in(app, client, accounts):
    with app.app_context():
        db.session.get(User, accounts["officer"]).active = False
        db.session.commit()
    response = client.post("/login", data={"email": "officer@office.test", "password": PASSWORD})
    assert response.status_code == 401


def test_login_follows_a_local_next_but_never_an_offsite_one(client, accounts):
    local = client.post("/login", data={"email": "officer@office.test", "password": PASSWORD,
                                        "next": "/office/certificates"})
    assert local.headers["Location"] == "/office/certificates"
    client.post("/logout")
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        response = client.post("/login", data={"email": "officer@office.test", "password": PASSWORD, "next": evil})
        assert response.headers["Location"] == "/office", evil
        client.post("/logout")


def test_anonymous_visitor_is_sent_to_login_and_back(client, accounts):
    response = client.get("/office/certificates")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    login_page = client.get(response.headers["Location"])
    assert 'value="/office/certificates"' in login_page.get_data(as_text=True)


def test_logout_is_a_post_and_ends_the_session(client, accounts):
    client.post("/login", data={"email": "officer@office.test", "password": PASSWORD})
    assert client.get("/logout").status_code == 405
    client.post("/logout")
    assert client.get("/office").status_code == 302


def test_login_form_requires_csrf_token_when_csrf_is_on(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user("officer")
        db.session.commit()
    response = app.test_client().post("/login", data={"email": "officer@office.test", "password": PASSWORD})
    assert response.status_code in (400, 401)
    assert "Location" not in response.headers


def test_login_is_rate_limited_per_address_and_email(tmp_path):
    # The per-account delay (tests/hardening/test_sessions.py) is set aside here to see the address limit alone.
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, LOGIN_ACCOUNT_FREE_FAILURES=100)
    with app.app_context():
        make_user("officer")
        db.session.commit()
    client = app.test_client()
    codes = [client.post("/login", data={"email": "officer@office.test", "password": "wrong-wrong-wrong"}).status_code
             for _ in range(11)]
    assert codes[:10] == [401] * 10
    assert codes[10] == 429
    # Even the right password is refused while the limit holds.
    assert client.post("/login", data={"email": "officer@office.test", "password": PASSWORD}).status_code == 429
    shutil.rmtree(tmp_path / "search_index", ignore_errors=True)


def test_session_cookie_is_http_only_and_same_site(client, accounts):
    response = client.post("/login", data={"email": "officer@office.test", "password": PASSWORD})
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_password_change_needs_the_current_password(app, client, accounts):
    client.post("/login", data={"email": "officer@office.test", "password": PASSWORD})
    wrong = client.post("/account/password", data={"current": "not-it-at-all", "new": "a brand new passphrase",
                                                   "confirm": "a brand new passphrase"})
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.get_data(as_text=True)
    ok = client.post("/account/password", data={"current": PASSWORD, "new": "a brand new passphrase",
                                                "confirm": "a brand new passphrase"})
    assert ok.status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"email": "officer@office.test", "password": PASSWORD}).status_code == 401
    assert client.post("/login", data={"email": "officer@office.test",
                                       "password": "a brand new passphrase"}).status_code == 302


def test_password_change_refuses_a_short_password(client, accounts):
    client.post("/login", data={"email": "officer@office.test", "password": PASSWORD})
    response = client.post("/account/password", data={"current": PASSWORD, "new": "short", "confirm": "short"})
    assert response.status_code == 422


def test_cli_creates_an_account_with_password_from_stdin_hashed_with_argon2id(app, runner):
    result = runner.invoke(args=["accounts", "create", "--email", "New.Officer@Body.example", "--role", "officer"],
                           input="a long enough passphrase\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new.officer@body.example"))
        assert user.role == "officer"
        assert user.password_hash.startswith("$argon2id$")
        assert "a long enough passphrase" not in user.password_hash


def test_cli_refuses_a_weak_password_and_a_duplicate_email(app, runner):
    weak = runner.invoke(args=["accounts", "create", "--email", "a@body.example", "--role", "admin"], input="short\n")
    assert weak.exit_code != 0 and "10" in weak.output
    runner.invoke(args=["accounts", "create", "--email", "a@body.example", "--role", "admin"], input="long enough pass\n")
    again = runner.invoke(args=["accounts", "create", "--email", "A@body.example", "--role", "admin"],
                          input="long enough pass\n")
    assert again.exit_code != 0


def test_cli_company_account_needs_an_existing_company(app, runner):
    with app.app_context():
        uscc = make_certificate().company.uscc
        db.session.commit()
    missing = runner.invoke(args=["accounts", "create", "--email", "c@co.example", "--role", "company"],
                            input="long enough pass\n")
    assert missing.exit_code != 0
    bound = runner.invoke(args=["accounts", "create", "--email", "c@co.example", "--role", "company", "--company", uscc],
                          input="long enough pass\n")
    assert bound.exit_code == 0, bound.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "c@co.example"))
        assert user.company.uscc == uscc


def test_demo_accounts_are_created_once_and_their_logins_printed(app, runner, client):
    with app.app_context():
        make_certificate()
        db.session.commit()
    first = runner.invoke(args=["accounts", "demo"])
    second = runner.invoke(args=["accounts", "demo"])
    assert first.exit_code == 0 and second.exit_code == 0
    for role in ("admin", "officer", "moderator", "company"):
        assert f"{role}@demo.invalid" in second.output
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(User)) == 4
    password = next(line.split("password: ")[1].split()[0] for line in second.output.splitlines() if "officer@" in line)
    assert client.post("/login", data={"email": "officer@demo.invalid", "password": password}).status_code == 302


def test_disabling_an_account_ends_its_open_session(app, runner, client, accounts):
    client.post("/login", data={"email": "officer@office.test", "password": PASSWORD})
    assert client.get("/office").status_code == 200
    result = runner.invoke(args=["accounts", "disable", "--email", "Officer@office.test"])
    assert result.exit_code == 0, result.output
    assert client.get("/office").status_code == 302
    assert runner.invoke(args=["accounts", "enable", "--email", "officer@office.test"]).exit_code == 0
    assert runner.invoke(args=["accounts", "disable", "--email", "nobody@office.test"]).exit_code != 0
