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
