"""The verification page cache never shows a change late: across workers (apps) and for bulk updates."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from registry.certificates import lifecycle, verify_cache
from registry.certificates.lifecycle import SYSTEM
from registry.certificates.models import Certificate
from registry.extensions import db
from tests.conftest import make_app
from tests.verify.conftest import issued


def test_a_change_made_by_another_worker_shows_on_the_next_scan(tmp_path, backend):
    worker_a = make_app(tmp_path, backend)
    with worker_a.app_context():
        number = issued().number
        db.session.commit()
    client_a = worker_a.test_client()
    assert "有效" in client_a.get(f"/v/{number}").get_data(as_text=True)  # now cached in worker A
    worker_b = make_app(tmp_path, backend) if backend == "sqlite" else worker_a
    with worker_b.app_context():
        cert = db.session.scalar(select(Certificate).where(Certificate.number == number))
        lifecycle.revoke_certificate(cert, reason="严重违规", actor=SYSTEM)
        db.session.commit()
    assert "撤销" in client_a.get(f"/v/{number}").get_data(as_text=True)
    for app in {worker_a, worker_b}:
        with app.app_context():
            db.engine.dispose()


def test_a_bulk_sql_update_also_invalidates(app, client, five_star):
    client.get(f"/v/{five_star}")
    with app.app_context():
        db.session.execute(update(Certificate).where(Certificate.number == five_star).values(status="withdrawn"))
        db.session.commit()
    assert "注销" in client.get(f"/v/{five_star}").get_data(as_text=True)


def test_cache_can_be_turned_off(tmp_path, backend):
    app = make_app(tmp_path, backend, VERIFY_CACHE_SECONDS=0)
    with app.app_context():
        issued(issued_on=dt.date(2025, 9, 1))
        db.session.commit()
        assert verify_cache.facts_cache().get_or_load("x", lambda: "fresh") == "fresh"
        db.engine.dispose()


def test_version_stamps_only_grow(tmp_path):
    path = str(tmp_path / "v")
    stamps = []
    for _ in range(5):
        verify_cache.bump_version(path)
        stamps.append(verify_cache.read_version(path))
    assert stamps == sorted(set(stamps))
