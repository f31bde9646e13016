"""The import is a register sync, not a bypass (issue 10 item 2): officers' decisions stand, on-read revocations
are final, numbers are matched folded against the registry, impossible dates are refused, overdue rows warn,
a lower level needs its reason, and the register's own export re-imports to the same state."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from registry.certificates import lifecycle
from registry.certificates.lifecycle import SystemActor
from registry.certificates.models import Certificate
from registry.errors import InvalidTransition
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from tests.conftest import close_app, make_app
from tests.factories import make_certificate, make_company
from tests.services.test_import import (
    assert_index_matches_database,
    counts,
    csv_bytes,
    good_rows,
    register_row,
    run_import,
)

OFFICER = SystemActor(role="officer")


def sync_rows() -> list[dict]:
    """The import tests' rows, the first with its surveillance audit recorded (else it is overdue today)."""
    rows = good_rows()
    rows[0]["last_surveillance_on"] = "2026-02-20"
    return rows


def certificate(number: str) -> Certificate:
    return db.session.scalar(select(Certificate).where(Certificate.number == number))


def entries(number: str) -> list[tuple[str, str]]:
    return [(e.kind, e.actor_role) for e in db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.certificate_number == number).order_by(LedgerEntry.seq))]


def officer_lowers_and_suspends(app, number: str = "99925SV00101R0") -> None:
    with app.app_context():
        cert = certificate(number)
        lifecycle.change_level(cert, new_level="3", reason="投诉成立，降级", actor=OFFICER)
        lifecycle.suspend_certificate(cert, reason="严重投诉成立", until=dt.date(2026, 9, 1), actor=OFFICER)
        db.session.commit()


def problem_lines(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.strip().startswith("第 ")]


# ------------------------------------------------------------------------------- officers' decisions stand

def test_reimporting_an_old_file_does_not_undo_an_officers_lowered_level_and_suspension(app, runner, tmp_path):
    content = csv_bytes(sync_rows())
    assert run_import(runner, tmp_path, content).exit_code == 0
    officer_lowers_and_suspends(app)
    before = counts(app)

    result = run_import(runner, tmp_path, content)

    assert result.exit_code == 1
    lines = problem_lines(result.output)
    assert any(line.startswith("第 2 行, 列 level") and "later decision" in line for line in lines), result.output
    assert counts(app) == before
    with app.app_context():
        cert = certificate("99925SV00101R0")
        assert (cert.level, cert.status, cert.suspended_until) == ("3", "suspended", dt.date(2026, 9, 1))
        assert entries("99925SV00101R0")[-1] == ("suspended", "officer")


def test_old_file_may_still_correct_descriptive_fields_of_a_certificate_an_officer_decided(app, runner, tmp_path):
    run_import(runner, tmp_path, csv_bytes(sync_rows()))
    officer_lowers_and_suspends(app)
    rows = sync_rows()
    rows[0].update(level="3", level_reason="投诉成立，降级", status="suspended", status_reason="严重投诉成立",
                   scope="家用电器的销售、配送及安装服务")
    header = list(rows[0]) + ["level_reason", "status_reason"]
    result = run_import(runner, tmp_path, csv_bytes(rows, header=[*dict.fromkeys(header)]))
    assert result.exit_code == 0, result.output
    with app.app_context():
        cert = certificate("99925SV00101R0")
        assert (cert.level, cert.status, cert.scope) == ("3", "suspended", "家用电器的销售、配送及安装服务")
        assert entries("99925SV00101R0")[-1] == ("updated", "import")


def test_a_file_dated_after_the_decision_may_change_status_through_the_lifecycle(app, runner, tmp_path):
    run_import(runner, tmp_path, csv_bytes(sync_rows()))
    officer_lowers_and_suspends(app)
    rows = sync_rows()
    rows[0].update(level="3", level_reason="监督审核维持三星", status="revoked", status_reason="整改未完成")
    header = [*dict.fromkeys(list(rows[0]) + ["level_reason", "status_reason"])]
    result = run_import(runner, tmp_path, csv_bytes(rows, header=header), "register.csv", "--as-of", "2026-06-01")
    assert result.exit_code == 0, result.output
    with app.app_context():
        cert = certificate("99925SV00101R0")
        assert (cert.status, cert.status_reason, cert.suspended_until) == ("revoked", "整改未完成", None)
        assert entries("99925SV00101R0")[-1] == ("revoked", "import")
    assert_index_matches_database(runner)


def test_status_change_of_an_existing_certificate_is_dated_by_the_row_and_reimports_unchanged(app, runner, tmp_path):
    run_import(runner, tmp_path, csv_bytes(sync_rows()))
    rows = sync_rows()
    rows[0].update(status="suspended", status_changed_on="2026-05-20", status_reason="未按期整改")
    header = [*dict.fromkeys(list(rows[0]) + ["status_changed_on", "status_reason"])]
    content = csv_bytes(rows, header=header)
    assert run_import(runner, tmp_path, content).exit_code == 0
    with app.app_context():
        cert = certificate("99925SV00101R0")
        assert (cert.status, cert.status_changed_on, cert.suspended_until) == (
            "suspended", dt.date(2026, 5, 20), dt.date(2026, 11, 20))
        assert entries("99925SV00101R0")[-1] == ("suspended", "import")
    before = counts(app)
    result = run_import(runner, tmp_path, content)
    assert result.exit_code == 0 and "未变 3" in result.output, result.output
    assert counts(app) == before


# ------------------------------------------------------------------------------ on-read revocation is final

def test_certificate_publicly_revoked_by_a_run_out_suspension_cannot_be_made_valid_by_an_import(app, runner, client,
                                                                                              tmp_path):
    rows = sync_rows()
    rows[0].update(status="suspended", status_changed_on="2025-10-01")
    header = [*dict.fromkeys(list(rows[0]) + ["status_changed_on"])]
    result = run_import(runner, tmp_path, csv_bytes(rows, header=header))
    assert result.exit_code == 0, result.output
    assert "第 2 行, 列 suspended_until" in result.output and "撤销/revoked" in result.output  # a warning
    assert "撤销" in client.get("/v/99925SV00101R0").get_data(as_text=True)
    before = counts(app)

    rows[0].update(status="valid", status_changed_on="")
    result = run_import(runner, tmp_path, csv_bytes(rows, header=header))

    assert result.exit_code == 1
    assert any(line.startswith("第 2 行, 列 status") and "final" in line for line in problem_lines(result.output))
    assert counts(app) == before
    with app.app_context():  # the back office refuses the same change
        with pytest.raises(InvalidTransition):
            lifecycle.restore_certificate(certificate("99925SV00101R0"), reason="恢复", actor=OFFICER)


def test_expired_certificate_is_not_renewed_by_an_import(app, runner, tmp_path):
    old = register_row(issued_on="2023-01-10", expires_on="2026-01-09", last_surveillance_on="2025-01-05")
    assert run_import(runner, tmp_path, csv_bytes([old])).exit_code == 0
    renewed = register_row(issued_on="2026-05-01", expires_on="", last_surveillance_on="")
    result = run_import(runner, tmp_path, csv_bytes([renewed]))
    assert result.exit_code == 1
    assert "过期/expired" in result.output and "第 2 行, 列 issued_on" in result.output


# ------------------------------------------------------------------------------------ folded numbers

def test_a_number_written_with_dashes_is_the_certificate_already_in_the_registry(app, runner, tmp_path):
    run_import(runner, tmp_path, csv_bytes([register_row()]))
    before = counts(app)
    result = run_import(runner, tmp_path, csv_bytes([register_row(certificate_number="99925-sv-00101-r0")]))
    assert result.exit_code == 0, result.output
    assert "未变 1" in result.output and counts(app) == before
    result = run_import(runner, tmp_path, csv_bytes([register_row(certificate_number="99925-SV-00101-R0",
                                                                  scope="家电维修服务")]))
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1
        assert certificate("99925SV00101R0").scope == "家电维修服务"


def test_a_number_matching_two_registry_entries_is_refused(app, runner, tmp_path):
    with app.app_context():
        company = make_company()
        make_certificate(company, number="99925SV00101R0")
        make_certificate(company, number="99925-SV-00101-R0")
        db.session.commit()
    result = run_import(runner, tmp_path, csv_bytes([register_row()]))
    assert result.exit_code == 1
    assert "第 2 行, 列 certificate_number" in result.output and "99925-SV-00101-R0, 99925SV00101R0" in result.output


# ------------------------------------------------------------------------------------ dates and warnings

def test_a_valid_row_whose_surveillance_is_overdue_is_imported_with_a_warning_saying_what_the_public_sees(
        app, runner, client, tmp_path):
    rows = [register_row(),  # issued 2025-03-01: surveillance due 2026-03-01, overdue on 2026-06-01
            register_row(certificate_number="99924SV00102R0", issued_on="2024-01-10", last_surveillance_on="",
                         expires_on="")]
    result = run_import(runner, tmp_path, csv_bytes(rows))
    assert result.exit_code == 0, result.output
    assert "提醒 2 条" in result.output and "2 warning(s)" in result.output
    lines = [line.strip() for line in result.output.splitlines()]
    assert any(line.startswith("第 2 行, 列 last_surveillance_on") and "暂停/suspended" in line and "2026-03-01" in line
               for line in lines), result.output
    assert any(line.startswith("第 3 行, 列 last_surveillance_on") and "撤销/revoked" in line for line in lines)
    assert "暂停" in client.get("/v/99925SV00101R0").get_data(as_text=True)


def test_a_row_with_its_surveillance_recorded_gets_no_warning(app, runner, tmp_path):
    result = run_import(runner, tmp_path, csv_bytes([register_row(last_surveillance_on="2026-02-20")]))
    assert result.exit_code == 0 and "warning" not in result.output, result.output


def test_impossible_dates_are_refused(app, runner, tmp_path):
    rows = [register_row(issued_on="2023-01-10", expires_on="2026-01-09", last_surveillance_on="2026-02-01"),
            register_row(certificate_number="99925SV00102R0", issued_on="2023-01-10", expires_on="2026-01-09",
                         status="revoked", status_changed_on="2026-03-01")]
    header = [*dict.fromkeys(list(rows[1]) + ["status_changed_on"])]
    result = run_import(runner, tmp_path, csv_bytes(rows, header=header))
    assert result.exit_code == 1
    lines = problem_lines(result.output)
    assert any(line.startswith("第 2 行, 列 last_surveillance_on") and "2026-01-09" in line for line in lines)
    assert any(line.startswith("第 3 行, 列 status_changed_on") and "2026-01-09" in line for line in lines)
    # Without a date the revocation would take effect today, long after the expiry.
    undated = register_row(certificate_number="99925SV00103R0", issued_on="2023-01-10", expires_on="2026-01-09",
                           status="revoked")
    result = run_import(runner, tmp_path, csv_bytes([undated]))
    assert result.exit_code == 1
    assert any(line.startswith("第 2 行, 列 status_changed_on") and "2026-01-09" in line
               for line in problem_lines(result.output)), result.output
    assert counts(app)["certificate"] == 0


# ------------------------------------------------------------------------------------ level and its reason

def test_level_below_the_score_needs_a_reason_and_is_kept_with_it(app, runner, tmp_path):
    header = [*dict.fromkeys(list(register_row()) + ["level_reason"])]
    refused = run_import(runner, tmp_path, csv_bytes([register_row(level="compliant")], header=header))
    assert refused.exit_code == 1 and "第 2 行, 列 level" in refused.output and "level_reason" in refused.output
    result = run_import(runner, tmp_path, csv_bytes([register_row(level="达标", level_reason="首年按达标发证")],
                                                    header=header))
    assert result.exit_code == 0, result.output
    with app.app_context():
        cert = certificate("99925SV00101R0")
        assert (cert.level, cert.score) == ("compliant", Decimal("91.50"))


# ------------------------------------------------------------------------------------ the round trip

def registry_with_decisions(app, runner, tmp_path) -> None:
    """Imported certificates, then an officer's level cut and suspension, a revocation, a first-year cap."""
    header = [*dict.fromkeys(list(register_row()) + ["level_reason", "status_changed_on"])]
    rows = sync_rows() + [
        register_row(certificate_number="99925SV00104R0", level="compliant", level_reason="首年按达标发证",
                     last_surveillance_on="2026-02-25", former_names="青島瀾澤家電有限公司"),
        register_row(certificate_number="99925SV00105R0", issued_on="2024-01-10", last_surveillance_on="2025-01-05",
                     status="suspended", status_changed_on="2025-11-01",  # ran out: publicly 撤销
                     former_names="青島瀾澤家電有限公司"),
    ]
    assert run_import(runner, tmp_path, csv_bytes(rows, header=header)).exit_code == 0
    officer_lowers_and_suspends(app)
    with app.app_context():
        lifecycle.revoke_certificate(certificate("99925SV00103R0"), reason="拒绝监督审核", actor=OFFICER)
        db.session.commit()


def public_state(app) -> dict:
    from registry.procurement.services import certificate_as_dict
    with app.app_context():
        state = {}
        for cert in db.session.scalars(select(Certificate).order_by(Certificate.number)):
            company = cert.company
            state[cert.number] = {**certificate_as_dict(cert), "status_reason": cert.status_reason,
                                  "suspended_until": cert.suspended_until, "last_surveillance_on": cert.last_surveillance_on,
                                  "recertification_count": cert.recertification_count, "address": company.address,
                                  "former_names": company.former_names, "service_sites": cert.service_sites,
                                  "enterprise_type": company.enterprise_type}
        return state


@pytest.mark.parametrize("name", ["register.csv", "register.jsonl"])
def test_export_reimports_into_the_same_registry_without_any_change(app, runner, tmp_path, name):
    registry_with_decisions(app, runner, tmp_path)
    path = tmp_path / name
    assert runner.invoke(args=["certificates", "export", str(path)]).exit_code == 0
    before, state = counts(app), public_state(app)

    result = runner.invoke(args=["certificates", "import", str(path)])

    assert result.exit_code == 0, result.output
    assert "未变 5" in result.output and "ledger entries 0" in result.output
    assert counts(app) == before and public_state(app) == state


def test_export_imported_into_a_fresh_registry_gives_the_same_public_state(app, runner, tmp_path, backend):
    registry_with_decisions(app, runner, tmp_path)
    path = tmp_path / "register.csv"
    assert runner.invoke(args=["certificates", "export", str(path)]).exit_code == 0
    state = public_state(app)
    with app.app_context():
        db.session.remove()

    fresh = make_app(tmp_path / "fresh", backend)
    try:
        result = fresh.test_cli_runner().invoke(args=["certificates", "import", str(path)])
        assert result.exit_code == 0, result.output
        assert public_state(fresh) == state
        assert {n: s["status"] for n, s in state.items()} == {
            "99924SV00102R0": "suspended", "99925SV00101R0": "suspended", "99925SV00103R0": "revoked",
            "99925SV00104R0": "valid", "99925SV00105R0": "revoked"}
    finally:
        close_app(fresh, tmp_path / "fresh")


def test_a_decision_taken_after_the_export_is_not_undone_by_importing_it_the_same_day(app, runner, tmp_path):
    run_import(runner, tmp_path, csv_bytes(sync_rows()))
    path = tmp_path / "register.csv"
    runner.invoke(args=["certificates", "export", str(path)])
    officer_lowers_and_suspends(app)  # same day as the export: only the ledger head tells it is later
    before = counts(app)
    result = runner.invoke(args=["certificates", "import", str(path)])
    assert result.exit_code == 1 and "later decision" in result.output, result.output
    assert counts(app) == before


def test_export_to_standard_output_starts_with_its_dating_line_and_the_import_header(app, runner, tmp_path):
    run_import(runner, tmp_path, csv_bytes(sync_rows()))
    result = runner.invoke(args=["certificates", "export", "-"])
    assert result.exit_code == 0
    first, header = result.output.splitlines()[:2]
    assert first.startswith("# as_of=2026-06-01 ledger_head_seq=4 ledger_head_hash=")
    assert header.startswith("certificate_number,company_name,uscc,") and "level_reason" in header


# ------------------------------------------------------------------------------- through the lifecycle only

def test_a_status_change_on_an_existing_certificate_is_entered_in_the_ledger_on_the_rows_date(app, runner, client,
                                                                                              tmp_path):
    run_import(runner, tmp_path, csv_bytes(sync_rows()))
    rows = sync_rows()
    rows[0].update(status="suspended", status_changed_on="2026-05-20", status_reason="未按期整改")
    header = [*dict.fromkeys(list(rows[0]) + ["status_changed_on", "status_reason"])]
    assert run_import(runner, tmp_path, csv_bytes(rows, header=header)).exit_code == 0
    with app.app_context():
        entry = db.session.scalars(select(LedgerEntry).where(LedgerEntry.certificate_number == "99925SV00101R0")
                                   .order_by(LedgerEntry.seq.desc())).first()
        assert (entry.kind, entry.effective_on, entry.actor_role) == ("suspended", dt.date(2026, 5, 20), "import")
    answer = client.get("/api/v1/certificates/99925SV00101R0/status?on=2026-05-25").get_json()
    assert answer["status"] == "suspended"
    assert client.get("/api/v1/certificates/99925SV00101R0/status?on=2026-05-19").get_json()["status"] == "valid"


def test_a_status_date_before_an_entry_of_the_same_import_is_entered_today_and_still_reimports_unchanged(
        app, runner, client, tmp_path):
    run_import(runner, tmp_path, csv_bytes(sync_rows()))
    rows = sync_rows()
    rows[0].update(status="suspended", status_changed_on="2026-05-20", scope="家用电器的配送及安装服务")
    header = [*dict.fromkeys(list(rows[0]) + ["status_changed_on"])]
    content = csv_bytes(rows, header=header)
    assert run_import(runner, tmp_path, content).exit_code == 0
    with app.app_context():
        assert certificate("99925SV00101R0").status_changed_on == dt.date(2026, 5, 20)
        kinds = [(e.kind, e.effective_on) for e in db.session.scalars(
            select(LedgerEntry).where(LedgerEntry.certificate_number == "99925SV00101R0").order_by(LedgerEntry.seq))]
        # The scope's entry is dated today: a suspension dated before it would be hidden behind it in the history.
        assert kinds[1:3] == [("updated", dt.date(2026, 6, 1)), ("suspended", dt.date(2026, 6, 1))]
    assert client.get("/api/v1/certificates/99925SV00101R0/status").get_json()["status"] == "suspended"
    before = counts(app)
    again = run_import(runner, tmp_path, content)
    assert again.exit_code == 0 and "未变 3" in again.output and counts(app) == before


def test_imported_history_is_stored_as_meaning_and_each_reader_sees_their_language(app, runner, client, tmp_path):
    rows = sync_rows()
    rows[0].update(status="suspended", status_changed_on="2026-05-20", status_reason="未按期整改")
    header = [*dict.fromkeys(list(rows[0]) + ["status_changed_on", "status_reason"])]
    assert run_import(runner, tmp_path, csv_bytes(rows, header=header)).exit_code == 0
    with app.app_context():
        imported, suspended = db.session.scalars(select(LedgerEntry).where(
            LedgerEntry.certificate_number == "99925SV00101R0").order_by(LedgerEntry.seq)).all()
        assert imported.data["message"]["id"] == "Issued at level %(level)s (audit score %(score)s)."
        assert suspended.data["message"] == {"id": "Suspended until %(day)s.", "params": {"day": "2026-11-20"}}
        assert suspended.public_text == "暂停至 2026-11-20。" and suspended.reason == "未按期整改"
    english = client.get("/certificates/99925SV00101R0?lang=en").get_data(as_text=True)
    assert "Suspended until 2026-11-20." in english and "Issued at level Four stars" in english


def test_a_file_status_after_the_dates_made_the_certificate_revoked_is_refused_with_its_line(app, runner, tmp_path):
    # Issued 2024-01-10, no surveillance audit: due 2025-01-10, suspended on read from 2025-01-11 and
    # revoked from 2025-07-12; a suspension from 2025-09-01 cannot follow that revocation.
    row = register_row(issued_on="2024-01-10", status="suspended", status_changed_on="2025-09-01",
                       suspended_until="2026-03-01")
    header = [*dict.fromkeys(list(row) + ["status_changed_on", "suspended_until"])]
    result = run_import(runner, tmp_path, csv_bytes([row], header=header))
    assert result.exit_code == 1
    assert any(line.startswith("第 2 行, 列 status_changed_on") and "撤销/revoked" in line and "2025-09-01" in line
               for line in problem_lines(result.output)), result.output
    assert counts(app)["certificate"] == 0
    # Suspended on 2025-03-01, while its dates showed it suspended for the overdue audit: the register
    # stores what the public saw (as the tick would), so it goes in.
    row.update(status_changed_on="2025-03-01", suspended_until="2025-09-01")
    result = run_import(runner, tmp_path, csv_bytes([row], header=header))
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert (certificate("99925SV00101R0").status, entries("99925SV00101R0")) == (
            "suspended", [("imported", "import"), ("suspended", "import")])


def test_the_importers_record_door_refuses_officers_state_fields_and_contradicting_dates(app):
    from registry.errors import PermissionDenied, ValidationError
    from registry.ledger.messages import LedgerMessage
    message = LedgerMessage("Certificate details changed: %(fields)s.", fields="x")
    with app.app_context():
        cert = make_certificate(issued_on=dt.date(2025, 9, 1))
        db.session.commit()
        with pytest.raises(PermissionDenied):
            lifecycle.sync_record(cert, actor=OFFICER, changes={"expires_on": dt.date(2027, 1, 1)}, message=message)
        with pytest.raises(ValueError):
            lifecycle.sync_record(cert, actor=lifecycle.IMPORT, changes={"status": "valid"}, message=message)
        with pytest.raises(ValidationError):
            lifecycle.sync_record(cert, actor=lifecycle.IMPORT, changes={"expires_on": dt.date(2025, 8, 1)},
                                  message=message)
        with pytest.raises(ValidationError):
            lifecycle.sync_record(cert, actor=lifecycle.IMPORT, changes={"suspended_until": dt.date(2026, 9, 1)},
                                  message=message)
        db.session.rollback()
        lifecycle.revoke_certificate(cert, reason="严重违规", actor=OFFICER)
        db.session.commit()
        with pytest.raises(InvalidTransition):
            lifecycle.sync_record(cert, actor=lifecycle.IMPORT, changes={"last_surveillance_on": dt.date(2026, 5, 1)},
                                  message=message)
        db.session.rollback()
        cert = db.session.get(Certificate, cert.id)
        assert (cert.expires_on, cert.suspended_until, cert.last_surveillance_on) == (
            dt.date(2028, 8, 31), None, None)
        assert [e.kind for e in db.session.scalars(select(LedgerEntry).where(
            LedgerEntry.certificate_number == cert.number))] == ["revoked"]
