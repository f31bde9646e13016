"""The lifecycle authority: language-neutral public history, and history that cannot be moved between certificates."""
from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import select, text

from registry.certificates import lifecycle
from registry.certificates.models import Certificate
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from registry.ledger.services import append_entry
from registry.office import services as office
from registry.office.tick import run_tick
from tests.factories import make_certificate


def _certificate(app, **overrides) -> str:
    with app.app_context():
        number = make_certificate(**overrides).number
        db.session.commit()
    return number


def _entries(app, number: str, kind: str | None = None) -> list[LedgerEntry]:
    with app.app_context():
        stmt = select(LedgerEntry).where(LedgerEntry.certificate_number == number).order_by(LedgerEntry.seq)
        if kind:
            stmt = stmt.where(LedgerEntry.kind == kind)
        entries = db.session.scalars(stmt).all()
        db.session.expunge_all()
        return entries


# --- language-neutral history ------------------------------------------------------------------------

def test_an_officer_on_english_pages_stores_chinese_public_text_and_each_reader_sees_their_language(
        app, officer_client, client):
    number = _certificate(app)
    response = officer_client.post(f"/office/certificates/{number}/suspend?lang=en",
                                   data={"suspend-until": "2026-08-01", "suspend-reason": "Complaints confirmed"})
    assert response.status_code == 302
    [entry] = _entries(app, number, "suspended")
    assert entry.public_text == "暂停至 2026-08-01。"          # hashed, in the registry's legal language
    assert entry.data["message"] == {"id": "Suspended until %(day)s.", "params": {"day": "2026-08-01"}}
    assert entry.reason == "Complaints confirmed"               # the actor's own words, as written
    english = client.get(f"/certificates/{number}?lang=en").get_data(as_text=True)
    chinese = client.get(f"/certificates/{number}?lang=zh").get_data(as_text=True)
    assert "Suspended until 2026-08-01." in english and "暂停至" not in english
    assert "暂停至 2026-08-01。" in chinese and "Suspended until" not in chinese


def test_the_same_decision_on_chinese_pages_stores_the_same_hashed_text(app, officer_client):
    number = _certificate(app)
    officer_client.post(f"/office/certificates/{number}/suspend?lang=zh",
                        data={"suspend-until": "2026-08-01", "suspend-reason": "投诉查实"})
    [entry] = _entries(app, number, "suspended")
    assert entry.public_text == "暂停至 2026-08-01。"
    assert entry.data["message"]["id"] == "Suspended until %(day)s."


def test_an_audit_message_with_translated_parameters_renders_whole_in_each_language(app, officer_client, client):
    import re

    from tests.office.helpers import SCORE_85, sheet_data
    number = _certificate(app)
    url = f"/office/certificates/{number}/audits/new?kind=surveillance&lang=en"
    preview = officer_client.post(url, data=sheet_data(SCORE_85, preview="y", reason="Annual surveillance"))
    score = re.search(r'name="confirmed_score" type="hidden" value="([^"]+)"', preview.get_data(as_text=True)).group(1)
    officer_client.post(url, data=sheet_data(SCORE_85, save="y", confirmed_score=score, reason="Annual surveillance"))
    [entry] = _entries(app, number, "audit_recorded")
    assert entry.public_text.startswith("监督审核") and "Surveillance" not in entry.public_text
    assert "三星" in entry.public_text
    english = client.get(f"/certificates/{number}?lang=en").get_data(as_text=True)
    assert "Surveillance audit passed: score 85.00, result Three stars." in english
    chinese = client.get(f"/certificates/{number}?lang=zh").get_data(as_text=True)
    assert entry.public_text in chinese


def test_tick_history_is_chinese_when_hashed_and_english_for_an_english_reader(app, runner, client):
    # Audited to the end of its cycle (else the rule revokes it for overdue surveillance before expiry).
    number = _certificate(app, issued_on=dt.date(2023, 5, 20), last_surveillance_on=dt.date(2025, 5, 10))
    assert runner.invoke(args=["registry", "tick"]).exit_code == 0
    [entry] = _entries(app, number, "expired")
    assert entry.public_text == "有效期于 2026-05-19 届满，未再认证。"
    assert "Validity" not in entry.public_text
    english = client.get(f"/certificates/{number}?lang=en").get_data(as_text=True)
    assert "Validity ended on 2026-05-19 without renewal." in english


def test_entries_written_before_message_ids_keep_their_hash_and_show_their_stored_text(app, client, runner):
    number = _certificate(app)
    with app.app_context():
        certificate = db.session.scalar(select(Certificate).where(Certificate.number == number))
        append_entry(kind="updated", actor_role="officer", certificate=certificate, status_after="valid",
                     level_after="4", public_text="旧式条目文本", data={})
        db.session.commit()
    assert "旧式条目文本" in client.get(f"/certificates/{number}?lang=en").get_data(as_text=True)
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0


def test_the_ledger_message_id_and_parameters_are_covered_by_the_hash(app, runner):
    number = _certificate(app)
    with app.app_context():
        certificate = db.session.scalar(select(Certificate).where(Certificate.number == number))
        lifecycle.suspend_certificate(certificate, reason="投诉查实", until=dt.date(2026, 8, 1), actor=lifecycle.SYSTEM)
        db.session.commit()
        seq = db.session.scalar(select(LedgerEntry.seq).where(LedgerEntry.kind == "suspended"))
        db.session.execute(text("UPDATE ledger_entry SET data = :d WHERE seq = :s"),
                           {"d": '{"message": {"id": "Restored.", "params": {}}}', "s": seq})
        db.session.commit()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1 and f"#{seq}" in result.output


# --- history goes by the hashed number ---------------------------------------------------------------

def _moved_history(app) -> tuple[str, str, int]:
    """Two certificates; the first one revoked; then its revocation's row link moved to the second."""
    with app.app_context():
        victim, other = make_certificate(), make_certificate()
        for c in (victim, other):
            lifecycle.record_event(c, "imported", actor_role="import", effective_on=c.issued_on)
        lifecycle.revoke_certificate(victim, reason="严重违规", actor=lifecycle.SYSTEM)
        db.session.commit()
        seq = db.session.scalar(select(LedgerEntry.seq).where(LedgerEntry.kind == "revoked"))
        db.session.execute(text("UPDATE ledger_entry SET certificate_id = :o WHERE seq = :s"), {"o": other.id, "s": seq})
        db.session.commit()
        return victim.number, other.number, seq


def test_moving_an_entry_to_another_certificate_is_caught_by_ledger_verify(app, runner):
    _victim, _other, seq = _moved_history(app)
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1
    assert f"entry #{seq} is linked to certificate" in result.output


def test_moving_an_entry_does_not_change_the_status_on_a_date_answers(app, client):
    victim, other, _seq = _moved_history(app)
    today = "2026-06-01"
    assert client.get(f"/api/v1/certificates/{victim}/status?on={today}").get_json()["status"] == "revoked"
    assert client.get(f"/api/v1/certificates/{other}/status?on={today}").get_json()["status"] == "valid"
    other_page = client.get(f"/certificates/{other}?lang=en").get_data(as_text=True)
    assert "严重违规" not in other_page


def test_the_documented_independent_verifier_checks_each_certificates_history(app, client):
    """Step 2 of the verifier in docs/back-office.md: the entry an answer cites is that certificate's own
    latest entry in effect on the day, judged from the export alone."""
    import json
    victim, other, _seq = _moved_history(app)
    chain = [json.loads(line) for line in client.get("/ledger.jsonl").get_data(as_text=True).splitlines() if line]
    for number in (victim, other):
        day = "2026-06-01"
        answer = client.get(f"/api/v1/certificates/{number}/status?on={day}").get_json()
        own = [e for e in chain if e["certificate_number"] == number and e["status_after"] and e["effective_on"] <= day]
        latest = max(own, key=lambda e: (e["effective_on"], e["seq"]))
        assert answer["ledger_seq"] == latest["seq"] and answer["status"] in (latest["status_after"], "expired")


# --- one door ---------------------------------------------------------------------------------------

def test_no_module_but_the_lifecycle_writes_certificate_status_level_validity_or_surveillance():
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parents[2] / "registry"
    fields = (r"status|status_reason|status_changed_on|suspended_until|level|score|expires_on|issued_on|"
              r"first_issued_on|last_surveillance_on|surveillance_count|recertification_count")
    pattern = re.compile(rf"\b(?:certificate|cert|c)\.(?:{fields})\s*=[^=]"
                         # setattr on a certificate, whatever the field (a name in a variable hides which)
                         r"|\bsetattr\(\s*(?:certificate|cert|c)\s*,")
    writers = {str(p.relative_to(root)) for p in root.rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))}
    assert writers == {"certificates/lifecycle.py"}


def test_the_hashed_text_does_not_depend_on_the_actors_language(app):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(lang=st.sampled_from(["en", "zh", "zh-Hans", "fr", ""]), days=st.integers(min_value=1, max_value=180))
    def check(lang, days):
        until = dt.date(2026, 6, 1) + dt.timedelta(days=days)
        with app.test_request_context(f"/?lang={lang}"):
            certificate = make_certificate()
            entry = lifecycle.suspend_certificate(certificate, reason="投诉查实", until=until, actor=lifecycle.SYSTEM)
            assert entry.public_text == f"暂停至 {until.isoformat()}。"
            assert entry.data["message"] == {"id": "Suspended until %(day)s.", "params": {"day": until.isoformat()}}
            db.session.rollback()

    check()


# --- lock order, observed on the wire -----------------------------------------------------------------

def _first_write_comes_after_the_ledger_lock(run) -> list[str]:
    """Run `run()` and return the statements it sent, checking that none writes or row-locks before the ledger lock."""
    from sqlalchemy import event
    statements: list[str] = []
    engine = db.engine

    def record(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        run()
        db.session.flush()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    lock = next((i for i, s in enumerate(statements)
                 if "pg_advisory_xact_lock" in s or s.startswith("UPDATE ledger_entry SET seq = seq")), None)
    writes = [i for i, s in enumerate(statements)
              if s.split(" ", 1)[0] in ("INSERT", "UPDATE", "DELETE") or s.endswith("FOR UPDATE")
              or " FOR UPDATE OF " in s]
    writes = [i for i in writes if i != lock]
    assert lock is not None, statements
    assert not writes or min(writes) > lock, [statements[i] for i in range(0, min(writes) + 1)]
    return statements


def _officer():
    from tests.office.conftest import make_user
    return make_user("officer", email=f"officer{next(_n)}@office.test")


_n = itertools.count()

OPERATIONS = {
    "suspend": lambda c, o: lifecycle.suspend_certificate(c, reason="投诉查实", until=dt.date(2026, 8, 1), actor=o),
    "revoke": lambda c, o: lifecycle.revoke_certificate(c, reason="严重违规", actor=o),
    "withdraw": lambda c, o: lifecycle.withdraw_certificate(c, reason="企业申请", actor=o),
    "change_level": lambda c, o: lifecycle.change_level(c, new_level="3", reason="降级", actor=o),
    "edit_certificate": lambda c, o: office.update_certificate(o, c, scope="家用电器的配送、安装服务",
                                                               service_sites=["上海"], reason="范围调整"),
    "edit_company": lambda c, o: office.update_company(
        o, c.company, reason="更名", **{**{n: getattr(c.company, n) for n in office.COMPANY_PUBLIC_FIELDS},
                                       "name": "改名后的家电服务有限公司"}),
    "tick": lambda c, o: run_tick(dt.date(2026, 6, 1)),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_every_writer_takes_the_ledger_lock_before_any_row(app_ctx, operation):
    certificate = make_certificate(issued_on=dt.date(2023, 5, 20) if operation == "tick" else dt.date(2025, 9, 1))
    officer = _officer()
    db.session.commit()
    certificate = db.session.get(Certificate, certificate.id)   # loaded the way a request loads it
    assert certificate.company.name  # the company too, as the page shows it
    statements = _first_write_comes_after_the_ledger_lock(lambda: OPERATIONS[operation](certificate, officer))
    assert any(s.startswith("INSERT INTO ledger_entry") for s in statements)


def test_a_surveillance_audit_takes_the_ledger_lock_before_any_row(app_ctx):
    from tests.office.helpers import SCORE_85
    certificate = make_certificate(issued_on=dt.date(2025, 3, 1))   # surveillance overdue: suspended on read
    officer = _officer()
    db.session.commit()
    scheme = certificate.scheme
    earned = {i.id: SCORE_85.get(i.id, str(i.max_points)) for i in scheme.indicators}
    data = office.AuditInput(audited_on=dt.date(2026, 5, 20), earned=earned)
    statements = _first_write_comes_after_the_ledger_lock(
        lambda: office.record_surveillance_audit(officer, certificate, data, reason="年度监督"))
    assert sum(s.startswith("INSERT INTO ledger_entry") for s in statements) >= 1


def test_complaint_and_sanction_entries_are_hashed_in_chinese_when_the_staff_read_english(app, client):
    from registry.complaints import services as complaints
    from tests.complaints.conftest import make_user
    from tests.complaints.test_services import make_complaint
    with app.test_request_context("/?lang=en"):
        certificate = make_certificate(level="4")
        moderator, officer = make_user("moderator"), make_user("officer")
        company = make_user("company", certificate.company)
        for _i in range(3):
            complaint, _token = make_complaint(certificate)
            complaints.accept_complaint(complaint, moderator)
            complaints.respond_to_complaint(complaint, company, text="已处理")
            proposal = complaints.close_complaint(complaint, moderator, outcome="upheld", severity="major",
                                                  public_summary=None)
        complaints.respond_to_sanction(proposal, company, text="我们已整改")
        complaints.decide_sanction(proposal, officer, confirm=True, reason="Three major complaints upheld")
        db.session.commit()
        number = certificate.number
    outcome = _entries(app, number, "complaint_outcome")[-1]
    lowered = _entries(app, number, "level_changed")[-1]
    assert outcome.public_text.startswith("投诉 ") and "已结案" in outcome.public_text
    assert "closed" not in outcome.public_text and "Repair" not in outcome.public_text
    assert lowered.public_text.startswith("依据处理规则") and "lowered" not in lowered.public_text
    english = client.get(f"/certificates/{number}?lang=en").get_data(as_text=True)
    assert "Level lowered by one under sanction rule" in english
    assert "(Repair) closed: upheld." in english
    chinese = client.get(f"/certificates/{number}?lang=zh").get_data(as_text=True)
    assert lowered.public_text in chinese and "Level lowered" not in chinese


def test_two_ticks_at_once_on_either_database_write_each_entry_once(app):
    """SQLite's single write lock (taken first by the tick) serialises the two as PostgreSQL's advisory lock does."""
    import threading

    from sqlalchemy import func
    with app.app_context():
        numbers = [make_certificate(issued_on=dt.date(2023, 5, 1 + n), last_surveillance_on=dt.date(2025, 4, 20)).number for n in range(10)]
        db.session.commit()
    barrier, results = threading.Barrier(2), []

    def tick():
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results.append(run_tick(dt.date(2026, 6, 1)).changed)
                db.session.commit()
            except Exception as error:  # noqa: BLE001 — asserted below
                results.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [0, 10], results
    with app.app_context():
        counts = dict(db.session.execute(select(LedgerEntry.certificate_number, func.count())
                                         .where(LedgerEntry.kind == "expired")
                                         .group_by(LedgerEntry.certificate_number)).all())
        assert counts == {number: 1 for number in numbers}


def test_four_officers_at_once_on_either_database_write_one_suspension(app):
    import threading

    from registry.errors import InvalidTransition
    number = _certificate(app)
    barrier, results = threading.Barrier(4), []

    def suspend(n):
        with app.app_context():
            try:
                certificate = db.session.scalar(select(Certificate).where(Certificate.number == number))
                barrier.wait(timeout=10)
                lifecycle.suspend_certificate(certificate, reason=f"投诉查实 {n}", until=dt.date(2026, 8, 1),
                                              actor=lifecycle.SYSTEM)
                db.session.commit()
                results.append("suspended")
            except InvalidTransition:
                db.session.rollback()
                results.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=suspend, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["refused", "refused", "refused", "suspended"]
    assert [e.kind for e in _entries(app, number)].count("suspended") == 1


# --- the importer's door -----------------------------------------------------------------------------

def test_the_importer_enters_a_certificate_and_a_back_dated_suspension_through_the_lifecycle(app, client):
    from decimal import Decimal

    from registry.certificates.rules import default_expiry
    from registry.schemes import get_scheme
    from tests.factories import make_company
    with app.app_context():
        issued = dt.date(2025, 9, 1)
        certificate = Certificate(number="99925SV09999R0", company=make_company(), scheme_id="gbt27922-2011", level="4",
                                  score=Decimal("91.50"), scope="家用电器维修服务", service_sites=[], issued_on=issued,
                                  expires_on=default_expiry(get_scheme("gbt27922-2011"), issued), first_issued_on=issued,
                                  status="valid", status_reason="")
        lifecycle.issue(certificate, actor=lifecycle.IMPORT, reason="", kind="imported")
        lifecycle.apply_status(certificate, "suspended", reason="文件记载：监督发现问题", actor=lifecycle.IMPORT,
                               effective_on=dt.date(2026, 5, 1), until=dt.date(2026, 9, 1))
        db.session.commit()
    entries = _entries(app, "99925SV09999R0")
    assert [(e.kind, e.effective_on, e.actor_role) for e in entries] == [
        ("imported", dt.date(2025, 9, 1), "import"), ("suspended", dt.date(2026, 5, 1), "import")]
    answer = client.get("/api/v1/certificates/99925SV09999R0/status?on=2026-04-30").get_json()
    assert answer["status"] == "valid"
    assert client.get("/api/v1/certificates/99925SV09999R0/status?on=2026-05-02").get_json()["status"] == "suspended"


def test_the_importer_cannot_bring_a_revoked_certificate_back(app):
    from registry.errors import InvalidTransition
    number = _certificate(app)
    with app.app_context():
        certificate = db.session.scalar(select(Certificate).where(Certificate.number == number))
        lifecycle.revoke_certificate(certificate, reason="严重违规", actor=lifecycle.SYSTEM)
        db.session.commit()
        with pytest.raises(InvalidTransition):
            lifecycle.apply_status(certificate, "valid", reason="导入行", actor=lifecycle.IMPORT)
        db.session.rollback()
        assert db.session.get(Certificate, certificate.id).status == "revoked"
    assert [e.kind for e in _entries(app, number)] == ["revoked"]
