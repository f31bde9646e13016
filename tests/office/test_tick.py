"""`flask registry tick`: persists date-driven transitions once, dated by the rule, without changing public status."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from registry.certificates import history, lifecycle
from registry.certificates.models import Certificate
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from tests.factories import make_certificate
from tests.office.helpers import SCORE_96, sheet_data


def _ledger_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(LedgerEntry))


def _public_statuses(app, day: dt.date) -> dict[str, str]:
    with app.app_context():
        return {c.number: c.effective_status(day).value for c in db.session.scalars(select(Certificate))}


def _world(app) -> dict[str, str]:
    with app.app_context():
        numbers = {
            "suspension_ended": make_certificate(issued_on=dt.date(2025, 9, 1), status="suspended",
                                                 suspended_until=dt.date(2026, 5, 15)).number,
            "expired": make_certificate(issued_on=dt.date(2023, 5, 20),                 # expires 2026-05-19
                                        last_surveillance_on=dt.date(2025, 5, 1)).number,
            "overdue": make_certificate(issued_on=dt.date(2025, 3, 1)).number,           # due 2026-03-01
            "fine": make_certificate(issued_on=dt.date(2025, 9, 1)).number,
            "withdrawn": make_certificate(issued_on=dt.date(2022, 1, 1), status="withdrawn").number,
        }
        db.session.commit()
    return numbers


def test_tick_persists_each_transition_dated_by_the_rule_and_public_status_is_unchanged(app, runner):
    numbers = _world(app)
    before = _public_statuses(app, dt.date(2026, 6, 1))
    result = runner.invoke(args=["registry", "tick"])
    assert result.exit_code == 0, result.output
    assert "1 expired, 1 revoked (suspension ended), 1 suspended (surveillance overdue)" in result.output
    assert _public_statuses(app, dt.date(2026, 6, 1)) == before
    with app.app_context():
        entries = {e.certificate_number: e for e in db.session.scalars(select(LedgerEntry))}
        assert entries[numbers["suspension_ended"]].kind == "revoked"
        assert entries[numbers["suspension_ended"]].effective_on == dt.date(2026, 5, 16)
        assert entries[numbers["expired"]].kind == "expired"
        assert entries[numbers["expired"]].effective_on == dt.date(2026, 5, 20)
        assert entries[numbers["overdue"]].kind == "suspended"
        assert entries[numbers["overdue"]].effective_on == dt.date(2026, 3, 2)
        assert {e.actor_role for e in entries.values()} == {"system"}
        stored = {c.number: c.status for c in db.session.scalars(select(Certificate))}
        assert stored[numbers["suspension_ended"]] == "revoked" and stored[numbers["overdue"]] == "suspended"
        assert stored[numbers["expired"]] == "valid"  # expired is computed, never stored


def test_second_tick_the_same_day_changes_nothing(app, runner):
    _world(app)
    runner.invoke(args=["registry", "tick"])
    count = _ledger_count(app)
    again = runner.invoke(args=["registry", "tick"])
    assert again.exit_code == 0
    assert "0 expired, 0 revoked (suspension ended), 0 suspended (surveillance overdue)" in again.output
    assert _ledger_count(app) == count


def test_tick_day_by_day_across_a_suspension_ending_and_an_expiry(app, runner):
    with app.app_context():
        suspended = make_certificate(issued_on=dt.date(2025, 9, 1), status="suspended",
                                     suspended_until=dt.date(2026, 6, 10)).number
        expiring = make_certificate(issued_on=dt.date(2023, 6, 16)).number  # expires 2026-06-15
        for certificate in db.session.scalars(select(Certificate)):
            if certificate.number == expiring:
                certificate.last_surveillance_on = dt.date(2025, 6, 16)
            lifecycle.record_event(certificate, "imported", actor_role="system", effective_on=certificate.issued_on)
        db.session.commit()
    seen = []
    for day in ("2026-06-10", "2026-06-11", "2026-06-11", "2026-06-15", "2026-06-16", "2026-06-16", "2026-07-01"):
        before = _public_statuses(app, dt.date.fromisoformat(day))
        result = runner.invoke(args=["registry", "tick", "--today", day])
        assert result.exit_code == 0, result.output
        assert _public_statuses(app, dt.date.fromisoformat(day)) == before
        seen.append(_ledger_count(app))
    assert seen == [2, 3, 3, 3, 4, 4, 4]
    with app.app_context():
        kinds = dict(db.session.execute(select(LedgerEntry.certificate_number, LedgerEntry.kind)
                                        .where(LedgerEntry.kind != "imported")).all())
        assert kinds == {suspended: "revoked", expiring: "expired"}
        revoked = db.session.scalar(select(Certificate).where(Certificate.number == suspended))
        assert history.status_on(revoked, dt.date(2026, 6, 10)).status.value == "suspended"
        assert history.status_on(revoked, dt.date(2026, 6, 11)).status.value == "revoked"


def test_tick_refuses_a_malformed_date(runner):
    result = runner.invoke(args=["registry", "tick", "--today", "2026-13-01"])
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output


def test_overdue_suspension_persisted_by_the_tick_is_lifted_by_the_audit_not_by_restore(app, runner, officer_client):
    with app.app_context():
        number = make_certificate(issued_on=dt.date(2025, 3, 1)).number
        db.session.commit()
    runner.invoke(args=["registry", "tick"])
    refused = officer_client.post(f"/office/certificates/{number}/restore", data={"restore-reason": "恢复"})
    assert refused.status_code == 422 and "监督审核" in refused.get_data(as_text=True)
    url = f"/office/certificates/{number}/audits/new?kind=surveillance"
    officer_client.post(url, data=sheet_data(SCORE_96, preview="y", reason="补做监督审核"))
    saved = officer_client.post(url, data=sheet_data(SCORE_96, save="y", confirmed_score="96.00|5", reason="补做监督审核"))
    assert saved.status_code == 302
    with app.app_context():
        certificate = db.session.scalar(select(Certificate).where(Certificate.number == number))
        assert certificate.status == "valid" and certificate.effective_status().value == "valid"
    assert "0 suspended" in runner.invoke(args=["registry", "tick"]).output


def test_surveillance_overdue_past_the_maximum_suspension_is_revoked_and_the_tick_records_both_steps(app, runner):
    with app.app_context():
        # issued 2024-09-01, never surveilled: due 2025-09-01, suspended from 2025-09-02 to 2026-03-02,
        # revoked from 2026-03-03 (today is pinned to 2026-06-01)
        number = make_certificate(issued_on=dt.date(2024, 9, 1)).number
        db.session.commit()
    assert _public_statuses(app, dt.date(2026, 6, 1))[number] == "revoked"
    assert _public_statuses(app, dt.date(2026, 3, 2))[number] == "suspended"
    result = runner.invoke(args=["registry", "tick"])
    assert result.exit_code == 0, result.output
    assert _public_statuses(app, dt.date(2026, 6, 1))[number] == "revoked"
    with app.app_context():
        entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.certificate_number == number)
                                     .order_by(LedgerEntry.seq)).all()
        assert [(e.kind, e.effective_on) for e in entries] == [
            ("suspended", dt.date(2025, 9, 2)), ("revoked", dt.date(2026, 3, 3))]
        certificate = db.session.scalar(select(Certificate).where(Certificate.number == number))
        assert history.status_on(certificate, dt.date(2025, 12, 1)).status.value == "suspended"
