"""`flask demo load`: about 200 fictional companies, every level and status, through the import service."""
from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import func, select

from registry.certificates.identifiers import is_valid_uscc
from registry.certificates.models import Certificate, Company
from registry.demo.data import REAL_BRANDS, demo_records
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from tests.conftest import make_app
from tests.factories import make_certificate

TODAY = dt.date(2026, 6, 1)  # pinned in tests/conftest.py


def table_counts() -> dict:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Company, Certificate, LedgerEntry)}


def test_demo_load_fills_the_register_with_every_level_and_status(app, runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "企业 200 家" in result.output
    with app.app_context():
        companies = db.session.scalars(select(Company)).all()
        certificates = db.session.scalars(select(Certificate)).all()
        assert len(companies) == 200
        assert all(is_valid_uscc(c.uscc) for c in companies)
        assert len({c.province for c in companies}) >= 20
        assert {"家电", "汽车销售", "家居建材", "电动车", "餐饮", "物流", "零售", "手机通讯", "酒店"} <= {
            c.industry for c in companies}
        assert all(c.name.endswith("公司") and not any(b in c.name for b in REAL_BRANDS) for c in companies)
        # the region digits of each code match its province (GB/T 2260: 37 is Shandong, 44 Guangdong…)
        shandong = [c for c in companies if c.province == "山东省"]
        assert shandong and all(c.uscc[2:4] == "37" for c in shandong)

        levels = {(c.scheme_id, c.level) for c in certificates}
        assert levels == {("gbt27922-2011", lvl) for lvl in ("compliant", "3", "4", "5")} | {
            ("satisfaction-1000", lvl) for lvl in ("7", "8", "9")}
        statuses = Counter(c.effective_status(TODAY).value for c in certificates)
        assert set(statuses) == {"valid", "suspended", "revoked", "withdrawn", "expired"}
        assert all(c.status_reason for c in certificates if c.status != "valid")
        valid = [c for c in certificates if c.effective_status(TODAY).value == "valid"]
        assert any(TODAY <= c.surveillance_due <= TODAY + dt.timedelta(days=30) for c in valid)
        # overdue surveillance: stored as valid, shown as suspended by the date rule
        assert any(c.status == "valid" and c.surveillance_due < TODAY and c.effective_status(TODAY).value == "suspended"
                   for c in certificates)

        with_former = [c for c in companies if c.former_names]
        assert len(with_former) >= 10
        traditional = "島電東車達銳騰諾遠樂爾瀾澤嵐悅"
        assert sum(any(ch in name for ch in traditional for name in c.former_names) for c in with_former) >= 3

        # through the import service: every certificate has its 'imported' entry, statuses their own
        kinds = Counter(e.kind for e in db.session.scalars(select(LedgerEntry)))
        assert kinds["imported"] == len(certificates)
        assert kinds["suspended"] == sum(c.status == "suspended" for c in certificates)
        assert kinds["revoked"] == sum(c.status == "revoked" for c in certificates)
    # the demo register reached the search index: it matches the database certificate for certificate
    check = runner.invoke(args=["search", "check"])
    assert check.exit_code == 0, check.output


def test_demo_load_twice_changes_nothing_and_its_csv_reimports_unchanged(app, runner, tmp_path):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context():
        before = table_counts()
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0 and "本次新增 0" in second.output
    csv_path = tmp_path / "demo.csv"
    assert runner.invoke(args=["demo", "csv", str(csv_path)]).exit_code == 0
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")
    reimport = runner.invoke(args=["certificates", "import", str(csv_path)])
    assert reimport.exit_code == 0, reimport.output
    assert "新增 0, 更新 0" in reimport.output
    with app.app_context():
        assert table_counts() == before


def test_demo_load_refuses_a_register_with_real_certificates(app, runner):
    with app.app_context():
        make_certificate()
        db.session.commit()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 1 and "非演示证书" in result.output
    with app.app_context():
        assert table_counts()["certificate"] == 1


def test_demo_data_is_deterministic_for_a_given_day():
    assert demo_records(TODAY) == demo_records(TODAY)
    assert len(demo_records(TODAY)) >= 200


def test_demo_site_pages_say_they_are_demo_data(tmp_path, backend):
    app = make_app(tmp_path, backend, DEMO_MODE=True)
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    client = app.test_client()
    with app.app_context():
        number = db.session.scalar(select(Certificate.number).order_by(Certificate.id).limit(1))
    for path in ("/", "/certificates", f"/certificates/{number}", "/certificates?status=suspended"):
        response = client.get(path)
        assert response.status_code == 200
        assert "演示站点" in response.get_data(as_text=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
