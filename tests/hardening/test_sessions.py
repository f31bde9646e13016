"""Sessions end when they should (server-side validity), sign-in limits per account across addresses."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from registry.accounts import services
from registry.accounts.models import StaffAuditEntry, User, UserSession
from registry.accounts.signin import delay_after
from registry.complaints.messages import sent
from registry.extensions import db
from tests.hardening.conftest import PASSWORD, login

NEW_PASSWORD = "a new and long passphrase"


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _copy(app, cookie: str):
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def test_a_cookie_copied_before_sign_out_no_longer_works_after_it(app, client, people):
    login(client, people["officer"][1])
    copied = _cookie(client)
    assert _copy(app, copied).get("/office").status_code == 200
    client.post("/logout")
    stolen = _copy(app, copied).get("/office")
    assert stolen.status_code == 302 and "/login" in stolen.headers["Location"]


def test_signing_out_ends_only_this_browser(app, people):
    first, second = app.test_client(), app.test_client()
    login(first, people["officer"][1])
    login(second, people["officer"][1])
    first.post("/logout")
    assert second.get("/office").status_code == 200


def test_sign_out_everywhere_ends_every_session_of_the_account(app, people):
    phone, laptop = app.test_client(), app.test_client()
    login(phone, people["moderator"][1])
    login(laptop, people["moderator"][1])
    page = laptop.get("/account").get_data(as_text=True)
    assert "在所有设备上退出" in page and page.count("<tr>") >= 3
    response = laptop.post("/account/sessions/end")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert phone.get("/complaints/queue").status_code == 302
    assert laptop.get("/complaints/queue").status_code == 302


def test_a_password_change_signs_out_every_other_browser(app, people):
    here, elsewhere = app.test_client(), app.test_client()
    login(here, people["officer"][1])
    login(elsewhere, people["officer"][1])
    response = here.post("/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert here.get("/office").status_code == 200
    assert elsewhere.get("/office").status_code == 302


def test_a_role_change_ends_the_accounts_sessions(app, client, people):
    login(client, people["officer"][1])
    with app.app_context():
        db.session.execute(update(User).where(User.id == people["officer"][0]).values(role="moderator"))
        db.session.commit()
    assert client.get("/office").status_code == 302


def test_disabling_an_account_ends_its_sessions_and_deletes_them(app, client, people):
    login(client, people["officer"][1])
    with app.app_context():
        services.set_active(people["officer"][1], False)
        db.session.commit()
        assert db.session.scalar(select(UserSession.id).where(UserSession.user_id == people["officer"][0])) is None
    assert client.get("/office").status_code == 302


def test_a_session_without_a_server_side_row_is_anonymous(app, client, people):
    with client.session_transaction() as session:
        session["_user_id"] = str(people["admin"][0])
        session["_fresh"] = True
    assert client.get("/office").status_code == 302


@pytest.mark.parametrize("failures,expected", [(0, 0), (4, 0), (5, 2), (6, 4), (9, 32), (40, 900)])
def test_the_delay_doubles_after_the_free_failures(failures, expected):
    assert delay_after(failures, 5, 900) == expected


def _fail_from(app, address: str, email: str, times: int) -> list[int]:
    client = app.test_client()
    return [client.post("/login", data={"email": email, "password": "wrong-wrong-wrong"},
                        environ_base={"REMOTE_ADDR": address}).status_code for _ in range(times)]


def test_failed_sign_ins_from_many_addresses_slow_down_the_account(app, people):
    email = people["officer"][1]
    codes = []
    for n in range(4):
        codes += _fail_from(app, f"198.51.100.{n}", email, 2)
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    # The right password also waits (it is not checked during the delay) ...
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "请等待" in response.get_data(as_text=True)
    # ... but only until the delay has passed: the owner is slowed, not locked out.
    with app.app_context():
        db.session.execute(update(StaffAuditEntry).values(at=StaffAuditEntry.at - dt.timedelta(seconds=10)))
        db.session.commit()
    assert login(client, email).status_code == 302


def test_an_unknown_address_is_slowed_the_same_way(app):
    codes = _fail_from(app, "198.51.100.7", "nobody@harden.test", 7)
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]


def test_the_owner_is_told_by_email_once(app, people):
    email = people["company"][1]
    _fail_from(app, "198.51.100.1", email, 3)
    _fail_from(app, "198.51.100.2", email, 6)
    notices = [m for m in sent(app) if m.to == email]
    assert len(notices) == 1 and notices[0].channel == "email" and "5" in notices[0].body


def test_sign_ins_and_failures_are_in_the_staff_log_and_the_app_log(app, client, people, caplog):
    caplog.set_level("INFO", logger="registry.audit")
    login(client, people["officer"][1], password="wrong-wrong-wrong")
    login(client, people["officer"][1])
    with app.app_context():
        actions = [(e.action, e.user_id, e.ip) for e in db.session.scalars(select(StaffAuditEntry).order_by(StaffAuditEntry.id))]
    assert actions == [("sign_in_failed", people["officer"][0], "127.0.0.1"), ("sign_in", people["officer"][0], "127.0.0.1")]
    text = caplog.text
    assert "failed sign-in email=officer@harden.test" in text and f"sign-in user={people['officer'][0]}" in text


def test_parallel_guesses_from_many_addresses_cannot_outrun_the_count(app, people):
    from concurrent.futures import ThreadPoolExecutor
    email = people["officer"][1]

    def guess(n: int) -> int:
        return app.test_client().post("/login", data={"email": email, "password": f"wrong-guess-{n:04d}"},
                                      environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(guess, range(12)))
    assert codes.count(401) == 5 and codes.count(429) == 7, codes
