"""The staff audit log: each back-office and moderation action names the person; the ledger keeps the role."""
from __future__ import annotations

from sqlalchemy import select

from registry.accounts.models import StaffAuditEntry
from registry.complaints.models import Complaint
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from tests.complaints.conftest import filing_form
from tests.hardening.conftest import login


def _entries(app, action: str) -> list[StaffAuditEntry]:
    with app.app_context():
        found = db.session.scalars(select(StaffAuditEntry).where(StaffAuditEntry.action == action)).all()
        db.session.expunge_all()
        return found


def test_a_suspension_names_the_officer_in_the_staff_log_and_only_the_role_in_the_ledger(app, client, people):
    login(client, people["officer"][1])
    number = people["certificate"]
    response = client.post(f"/office/certificates/{number}/suspend",
                           data={"suspend-until": "2026-08-01", "suspend-reason": "投诉查实"})
    assert response.status_code in (302, 303)
    [entry] = _entries(app, "office.certificate_action")
    assert entry.user_id == people["officer"][0] and entry.email == "officer@harden.test" and entry.role == "officer"
    assert entry.detail["args"] == {"number": number, "action": "suspend"}
    assert entry.path == f"/office/certificates/{number}/suspend" and entry.ip == "127.0.0.1"
    with app.app_context():
        ledger = db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq.desc())).first()
        assert ledger.actor_role == "officer"
        assert ledger.seq in entry.detail["changed"]["ledger_entry"]


def test_a_moderation_action_names_the_moderator(app, client, people):
    response = client.post("/complaints/new", data=filing_form(people["certificate"]))
    tracking = response.headers["Location"].rsplit("/", 1)[1]
    login(client, people["moderator"][1])
    with app.app_context():
        version = db.session.scalar(select(Complaint.version).where(Complaint.tracking_number == tracking))
    response = client.post(f"/complaints/case/{tracking}/accept",
                           data={"version": version, "public_summary": "空调维修两次未修好，客服不回复。"})
    assert response.status_code == 303
    [entry] = _entries(app, "complaints.case_action")
    assert entry.user_id == people["moderator"][0] and entry.detail["args"]["tracking"] == tracking


def test_a_refused_action_writes_no_entry(app, client, people):
    login(client, people["officer"][1])
    client.post(f"/office/certificates/{people['certificate']}/suspend", data={"suspend-reason": ""})
    assert _entries(app, "office.certificate_action") == []


def test_only_admins_read_the_staff_log(app, people):
    for role, expected in (("admin", 200), ("officer", 403), ("moderator", 403), ("company", 403)):
        client = app.test_client()
        login(client, people[role][1])
        assert client.get("/office/staff-log").status_code == expected, role
    anonymous = app.test_client().get("/office/staff-log")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_the_staff_log_page_shows_who_did_what_and_filters(app, client, people):
    login(client, people["officer"][1], password="wrong-wrong-wrong")
    login(client, people["officer"][1])
    client.post(f"/office/certificates/{people['certificate']}/suspend",
                data={"suspend-until": "2026-08-01", "suspend-reason": "投诉查实"})
    client.post("/logout")
    login(client, people["admin"][1])
    page = client.get("/office/staff-log").get_data(as_text=True).split("<tbody>")[1]
    assert "officer@harden.test" in page
    assert "sign_in_failed" in page and "office.certificate_action" in page
    only_actions = client.get("/office/staff-log?action=actions&email=officer@harden.test").get_data(as_text=True)
    only_actions = only_actions.split("<tbody>")[1]
    assert "office.certificate_action" in only_actions and "sign_in_failed" not in only_actions


def test_account_changes_on_the_command_line_are_in_the_staff_log(app, people):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["accounts", "disable", "--email", people["moderator"][1]])
    assert result.exit_code == 0, result.output
    [entry] = _entries(app, "cli.accounts.disable")
    assert entry.role == "cli" and entry.detail["account"] == "moderator@harden.test"
    created = runner.invoke(args=["accounts", "create", "--email", "new@harden.test", "--role", "officer"],
                            input="a long enough passphrase\n")
    assert created.exit_code == 0, created.output
    [entry] = _entries(app, "cli.accounts.create")
    assert entry.detail == {"account": "new@harden.test", "os_user": entry.detail["os_user"], "role": "officer"}
