"""Driving the registry the way its users do, through the existing use cases (no shortcuts into rows):
company registration, initial audit and issue, surveillance and recertification audits, suspend, restore,
revoke, withdraw, level changes, the daily tick, and days passing (the pinned REGISTRY_TODAY).

Each call runs in its own app context and commits, as a view or CLI command would, so the search outbox
is applied after commit exactly as in production's embedded mode.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from registry import clock
from registry.certificates import lifecycle
from registry.certificates.lifecycle import SYSTEM
from registry.certificates.models import Certificate
from registry.errors import RegistryError
from registry.extensions import db
from registry.office import services as office
from registry.office.tick import run_tick
from tests.factories import uscc_for

_companies = iter(range(880001, 890000))


def today(app) -> dt.date:
    with app.app_context():
        return clock.today()


def set_today(app, day: dt.date) -> None:
    app.config["REGISTRY_TODAY"] = day.isoformat()


def _total(score: int, audited_on: dt.date) -> office.AuditInput:
    return office.AuditInput(audited_on=audited_on, mode="total", earned_total=str(score), applicable_total="100")


def _run(app, action):
    """Run `action()` in an app context and commit; a refusal (RegistryError) rolls back and returns None."""
    with app.app_context():
        try:
            result = action()
        except RegistryError:
            db.session.rollback()
            return None
        db.session.commit()
        return result


def _certificate(number: str) -> Certificate:
    return db.session.scalar(select(Certificate).where(Certificate.number == number))


def issue(app, score: int = 92, outstanding: bool = True) -> str:
    """Register a company, record a passing initial audit today, issue; returns the certificate number."""
    def action():
        n = next(_companies)
        company = office.create_company(SYSTEM, name=f"不变式测试服务有限公司{n}", uscc=uscc_for(n), province="北京市",
                                        city="北京市", address="海淀区", industry="家电", enterprise_type="production")
        audit = office.record_initial_audit(SYSTEM, company, "gbt27922-2011", _total(score, clock.today()))
        certificate = office.issue_certificate(SYSTEM, audit, scope="家用电器的安装与维修", service_sites=[], reason="初次认证",
                                               outstanding=outstanding, outstanding_reason="成绩特别显著" if outstanding else "")
        return certificate.number
    return _run(app, action)


def surveillance(app, number: str, score: int) -> bool:
    return _run(app, lambda: office.record_surveillance_audit(
        SYSTEM, _certificate(number), _total(score, clock.today()), reason="监督审核", outstanding=True,
        outstanding_reason="测试")) is not None


def recertify(app, number: str, score: int) -> bool:
    return _run(app, lambda: office.record_recertification(
        SYSTEM, _certificate(number), _total(score, clock.today()), reason="再认证", outstanding=True,
        outstanding_reason="测试")) is not None


def suspend(app, number: str, months: int = 1) -> bool:
    from registry.certificates.rules import add_months
    return _run(app, lambda: lifecycle.suspend_certificate(
        _certificate(number), reason="暂停测试", until=add_months(clock.today(), months), actor=SYSTEM)) is not None


def restore(app, number: str) -> bool:
    return _run(app, lambda: office.restore(SYSTEM, _certificate(number), reason="恢复测试")) is not None


def revoke(app, number: str) -> bool:
    return _run(app, lambda: lifecycle.revoke_certificate(_certificate(number), reason="撤销测试", actor=SYSTEM)) is not None


def withdraw(app, number: str) -> bool:
    return _run(app, lambda: lifecycle.withdraw_certificate(_certificate(number), reason="注销测试",
                                                            actor=SYSTEM)) is not None


def change_level(app, number: str, level: str) -> bool:
    return _run(app, lambda: lifecycle.change_level(_certificate(number), new_level=level, reason="等级调整测试",
                                                    actor=SYSTEM)) is not None


def tick(app) -> None:
    _run(app, lambda: run_tick(clock.today()))


def truth(app, number: str) -> tuple[str, str]:
    """(effective status today, level) by the status rule on the stored row: what every surface must say."""
    with app.app_context():
        certificate = _certificate(number)
        return certificate.effective_status(clock.today()).value, certificate.level


# -- complaints, sanctions and appeals (the due process of complaints/services.py) --------------------------

_mobiles = iter(range(10000000, 99999999))


def _people(app) -> dict:
    """The staff of this small registry, made once per app: a moderator, two officers (the one who confirms a
    sanction may not decide its appeal)."""
    people = app.extensions.setdefault("invariant_people", {})
    if not people:
        from registry.accounts.models import User
        with app.app_context():
            for key, role in (("moderator", "moderator"), ("officer", "officer"), ("officer2", "officer")):
                user = User(email=f"invariant-{key}@example.test", password_hash="x", role=role)
                db.session.add(user)
                db.session.flush()
                people[key] = user.id
            db.session.commit()
    return people


def _user(app, key: str):
    from registry.accounts.models import User
    return db.session.get(User, _people(app)[key])


def _company_user(company_id: int):
    """The company's own account (made the first time the company has to answer)."""
    from registry.accounts.models import User
    user = db.session.scalar(select(User).where(User.role == "company", User.company_id == company_id))
    if user is None:
        user = User(email=f"invariant-company{company_id}@example.test", password_hash="x", role="company",
                    company_id=company_id)
        db.session.add(user)
        db.session.flush()
    return user


def complaint_upheld(app, number: str, severity: str) -> bool:
    """A consumer files, the moderator accepts, the company answers, the moderator closes it upheld (which runs
    the published sanction rules and may propose a sanction)."""
    from registry.complaints import services as complaints
    _people(app)  # made in its own transaction, before the action's

    def action():
        complaint, _token = complaints.file_complaint(complaints.FilingData(
            certificate_number=number, category="repair", description="空调维修三次仍不制冷，客服不再回复。",
            purchase_date=clock.today() - dt.timedelta(days=30), order_number="JD20260512998877",
            desired_resolution="refund", amount=None, name="李雷", mobile=f"+86139{next(_mobiles)}", email="",
            consent=True))
        moderator = _user(app, "moderator")
        complaints.accept_complaint(complaint, moderator)
        complaints.respond_to_complaint(complaint, _company_user(complaint.company_id), text="已处理")
        complaints.close_complaint(complaint, moderator, outcome="upheld", severity=severity, public_summary=None,
                                   early_reason="投诉事实清楚，提前结案")
        return True
    return _run(app, action) is not None


def proposals(app, state: str) -> list[int]:
    from registry.complaints.models import SanctionProposal
    with app.app_context():
        return list(db.session.scalars(select(SanctionProposal.id).where(SanctionProposal.state == state)
                                       .order_by(SanctionProposal.id)))


def _proposal(proposal_id: int):
    from registry.complaints.models import SanctionProposal
    return db.session.get(SanctionProposal, proposal_id)


def suspend_provisionally(app, proposal_id: int) -> bool:
    from registry.complaints import services as complaints
    _people(app)  # made in its own transaction, before the action's
    return _run(app, lambda: complaints.suspend_provisionally(
        _proposal(proposal_id), _user(app, "officer"), reason="存在安全隐患，先行暂停")) is not None


def decide_sanction(app, proposal_id: int, confirm: bool, company_answers: bool) -> bool:
    """The company states its case (or lets its hearing window pass), then an officer confirms or rejects."""
    from registry.complaints import services as complaints
    _people(app)  # made in its own transaction, before the action's

    def action():
        proposal = _proposal(proposal_id)
        if company_answers and not proposal.company_response:
            complaints.respond_to_sanction(proposal, _company_user(proposal.company_id), text="我们已整改")
        return complaints.decide_sanction(proposal, _user(app, "officer"), confirm=confirm, reason="依规则决定")
    return _run(app, action) is not None


def appeal(app, proposal_id: int) -> bool:
    from registry.complaints import services as complaints

    def action():
        proposal = _proposal(proposal_id)
        return complaints.appeal_sanction(proposal, _company_user(proposal.company_id), text="其中一起为重复投诉")
    return _run(app, action) is not None


def decide_appeal(app, proposal_id: int, uphold: bool) -> bool:
    from registry.complaints import services as complaints
    _people(app)  # made in its own transaction, before the action's
    return _run(app, lambda: complaints.decide_appeal(
        _proposal(proposal_id), _user(app, "officer2"), uphold=uphold, reason="申诉审理决定")) is not None


# -- the register import (a sync of the register's own export, as an operator would run it) ------------------

def import_file(app, path, *extra) -> tuple[int, str]:
    """`flask certificates import PATH`: (exit code, output). All or nothing: a refused file changes nothing."""
    result = app.test_cli_runner().invoke(args=["certificates", "import", str(path), *extra])
    return result.exit_code, result.output


def export_register(app, path) -> None:
    result = app.test_cli_runner().invoke(args=["certificates", "export", str(path)])
    assert result.exit_code == 0, result.output


def edit_export(path, number: str, changes: dict[str, str]) -> None:
    """Change one certificate's row in an exported CSV (the dating line and the header are kept)."""
    import csv
    import io
    text = path.read_bytes().decode("utf-8-sig")
    dating, _newline, body = text.partition("\r\n") if text.startswith("#") else ("", "", text)
    rows = list(csv.DictReader(io.StringIO(body)))
    header = list(rows[0]) if rows else []
    for name in changes:
        if name not in header:
            header.append(name)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n", restval="")
    writer.writeheader()
    for row in rows:
        if row["certificate_number"] == number:
            row.update(changes)
        writer.writerow(row)
    path.write_bytes(((dating + "\r\n" if dating else "") + out.getvalue()).encode("utf-8-sig"))


def overlong_suspension(app) -> bool:
    """Whether some certificate's suspension ends more than MAX_SUSPENSION_MONTHS after its suspension date
    (a provisional suspension confirmed late, a suspension resumed after a long appeal): the export of such a
    register does not re-import yet (tests/invariants/test_sanction_export.py, xfail)."""
    from registry.certificates.rules import latest_suspension_end
    with app.app_context():
        months = int(app.config["MAX_SUSPENSION_MONTHS"])
        rows = db.session.execute(select(Certificate.suspended_until, Certificate.status_changed_on)
                                  .where(Certificate.status == "suspended")).all()
        return any(until and start and until > latest_suspension_end(start, months) for until, start in rows)


def level_above_score(app) -> bool:
    """Whether some certificate holds a level above what its score gives. Only `change_level` here makes that
    (it calls the lifecycle directly); users raise a level only by an audit's score, so the import rightly
    refuses such a row and the export of such a register is not expected to re-import."""
    from registry.certificates.rules import judge
    with app.app_context():
        for certificate in db.session.scalars(select(Certificate)):
            held, earned = certificate.scheme.level(certificate.level), judge(certificate.scheme, certificate.score).level
            if certificate.score is not None and held is not None and earned is not None \
                    and held.min_score > earned.min_score:
                return True
        return False
