"""Concurrency on PostgreSQL, with real connections in threads: each ledger entry exactly once, no deadlock.

Every lifecycle writer takes the ledger lock first, then re-reads what it checks (lifecycle.py, docs/lifecycle.md).
"""
from __future__ import annotations

import datetime as dt
import os
import threading
import time

import pytest
from sqlalchemy import func, select

from registry.certificates import lifecycle
from registry.certificates.models import Certificate, Company
from registry.errors import InvalidTransition
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from registry.ledger.services import lock_head, verify_chain
from tests.conftest import close_app, make_app
from tests.factories import make_certificate, make_company

pytestmark = [pytest.mark.postgres_only,
              pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs TEST_DATABASE_URL")]


@pytest.fixture
def pg_app(tmp_path):
    app = make_app(tmp_path, "postgresql")
    yield app
    close_app(app, tmp_path)


def _run_together(app, work, count: int) -> list:
    """Run work(n) in `count` threads released by one barrier, each in its own app context and connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(n: int) -> None:
        with app.app_context():
            try:
                results[n] = work(n, barrier)
                db.session.commit()
            except Exception as error:  # noqa: BLE001 — the test asserts on what each thread met
                db.session.rollback()
                results[n] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return results


def test_two_ticks_at_once_write_each_expired_entry_exactly_once(pg_app):
    from registry.office.tick import run_tick
    with pg_app.app_context():
        numbers = [make_certificate(issued_on=dt.date(2023, 5, 1 + n), last_surveillance_on=dt.date(2025, 4, 20)).number for n in range(25)]  # all expired
        db.session.commit()

    def tick(_n, barrier):
        barrier.wait(timeout=10)
        return run_tick(dt.date(2026, 6, 1)).changed

    results = _run_together(pg_app, tick, 2)
    assert sorted(results) == [0, 25]
    with pg_app.app_context():
        counts = dict(db.session.execute(select(LedgerEntry.certificate_number, func.count())
                                         .where(LedgerEntry.kind == "expired").group_by(LedgerEntry.certificate_number)).all())
        assert counts == {number: 1 for number in numbers}
        assert verify_chain()[2] is None


def test_four_officers_suspending_one_certificate_at_once_write_one_suspension(pg_app):
    with pg_app.app_context():
        number = make_certificate().number
        db.session.commit()

    def suspend(n, barrier):
        # As a request does: load the certificate first, then decide.
        certificate = db.session.scalar(select(Certificate).where(Certificate.number == number))
        certificate.effective_status()
        barrier.wait(timeout=10)
        lifecycle.suspend_certificate(certificate, reason=f"投诉查实 {n}", until=dt.date(2026, 8, 1), actor=lifecycle.SYSTEM)
        return "suspended"

    results = _run_together(pg_app, suspend, 4)
    assert results.count("suspended") == 1
    assert all(isinstance(r, InvalidTransition) for r in results if r != "suspended"), results
    with pg_app.app_context():
        kinds = db.session.scalars(select(LedgerEntry.kind).where(LedgerEntry.certificate_number == number)).all()
        assert kinds.count("suspended") == 1


def test_four_officers_at_once_on_different_decisions_leave_one_consistent_history(pg_app):
    with pg_app.app_context():
        number = make_certificate().number
        db.session.commit()
    decisions = [
        lambda c: lifecycle.suspend_certificate(c, reason="暂停", until=dt.date(2026, 8, 1), actor=lifecycle.SYSTEM),
        lambda c: lifecycle.revoke_certificate(c, reason="撤销", actor=lifecycle.SYSTEM),
        lambda c: lifecycle.withdraw_certificate(c, reason="注销", actor=lifecycle.SYSTEM),
        lambda c: lifecycle.change_level(c, new_level="3", reason="降级", actor=lifecycle.SYSTEM),
    ]

    def decide(n, barrier):
        certificate = db.session.scalar(select(Certificate).where(Certificate.number == number))
        barrier.wait(timeout=10)
        return decisions[n](certificate).kind

    results = _run_together(pg_app, decide, 4)
    with pg_app.app_context():
        entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.certificate_number == number)
                                     .order_by(LedgerEntry.seq)).all()
        certificate = db.session.scalar(select(Certificate).where(Certificate.number == number))
        assert sorted(e.kind for e in entries) == sorted(r for r in results if isinstance(r, str))
        assert all(isinstance(r, (str, InvalidTransition)) for r in results), results
        assert entries[-1].status_after == certificate.status and entries[-1].level_after == certificate.level
        assert sum(e.kind in ("revoked", "withdrawn") for e in entries) <= 1  # a final status is final


def test_a_company_edit_and_a_multi_certificate_write_never_deadlock(pg_app):
    """The writer holding the ledger lock then locks the company row; the company edit must wait for the
    ledger lock *before* touching the row (the old order deadlocked here)."""
    from registry.office import services
    with pg_app.app_context():
        company = make_company()
        make_certificate(company), make_certificate(company)
        from tests.office.conftest import make_user
        officer_id = make_user("officer").id
        company_id = company.id
        db.session.commit()
    holding = threading.Event()

    def work(n, barrier):
        if n == 0:  # a multi-certificate write in the documented order, holding the locks a while
            barrier.wait(timeout=10)
            lock_head()                      # 1. the ledger
            holding.set()
            time.sleep(0.8)                  # the company edit starts meanwhile
            company_row = db.session.get(Company, company_id)
            certificates = lifecycle.lock_company(company_row)   # 2. certificates, 3. the company
            for certificate in certificates:
                lifecycle.record_event(certificate, "updated", actor_role="import", reason="登记簿同步")
            company_row.former_names = ["旧称家电服务有限公司"]
            db.session.flush()
            return "sync"
        from registry.accounts.models import User
        officer = db.session.get(User, officer_id)
        company_row = db.session.get(Company, company_id)
        values = {name: getattr(company_row, name) for name in services.COMPANY_PUBLIC_FIELDS}
        barrier.wait(timeout=10)
        holding.wait(timeout=10)
        services.update_company(officer, company_row, reason="更名", **{**values, "name": "新名称家电服务有限公司"})
        return "edit"

    results = _run_together(pg_app, work, 2)
    assert results == ["sync", "edit"], results
    with pg_app.app_context():
        company = db.session.get(Company, company_id)
        assert company.name == "新名称家电服务有限公司"
        assert company.former_names[0] == "旧称家电服务有限公司"    # the edit saw the sync's committed row
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry)
                                 .where(LedgerEntry.kind == "updated")) == 4
        assert verify_chain()[2] is None
