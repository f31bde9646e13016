"""/policy: the lifecycle knobs in force, thresholds per scheme, and what each status means."""
from __future__ import annotations

import shutil

from tests.conftest import make_app


def test_policy_page_shows_knobs_thresholds_and_statuses(client):
    page = client.get("/policy").get_data(as_text=True)
    assert "6 个月" in page                       # MAX_SUSPENSION_MONTHS
    assert "到期日的次日起证书暂停" in page        # no grace by default
    assert "否：从首张证书起" in page              # stars policy off by default
    assert "≥ 95 / 100" in page and "五星" in page
    for word in ("有效", "暂停", "撤销", "注销", "过期"):
        assert word in page
    assert "/ledger.jsonl" in page


def test_policy_page_follows_the_configuration(tmp_path):
    app = make_app(tmp_path, MAX_SUSPENSION_MONTHS=3, SURVEILLANCE_GRACE_DAYS=30, STARS_REQUIRE_YEAR_AT_COMPLIANT=True)
    page = app.test_client().get("/policy", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "3 months" in page and "30 days" in page and "stars come after a year at that level" in page
    shutil.rmtree(tmp_path / "search_index", ignore_errors=True)
