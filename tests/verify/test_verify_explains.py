"""/v/ and the certificate page explain themselves: a suspension's reason and dates said once, a wrong check code
warned about first, a lowered level explained next to the level and score, an expired icon every font has."""
from __future__ import annotations

import datetime as dt

import pytest

from registry import presenters
from registry.certificates import lifecycle
from registry.certificates.lifecycle import SYSTEM
from registry.extensions import db
from tests.factories import make_company
from tests.verify.conftest import issued


# Fixtures leave no app context pushed: requests then each get their own, and so their own language.
@pytest.fixture
def suspended(app):
    with app.app_context():
        certificate = issued(level="4")
        lifecycle.suspend_certificate(certificate, reason="监督审核发现服务网点不符合要求", until=dt.date(2026, 8, 1),
                                      actor=SYSTEM)
        db.session.commit()
        return certificate.number


@pytest.fixture
def lowered(app):
    with app.app_context():
        certificate = issued(level="5", company=make_company(name="青岛海澜家电有限公司"))
        lifecycle.change_level(certificate, new_level="4", reason="投诉处理", actor=SYSTEM,
                               extra={"sanction_rule": "repeat-complaints", "policy_version": "2026-1"})
        db.session.commit()
        return certificate.number


def test_suspended_page_shows_reason_since_and_until_and_says_do_not_rely_once(client, suspended):
    zh = client.get(f"/v/{suspended}").get_data(as_text=True)
    assert "监督审核发现服务网点不符合要求" in zh and "2026-06-01" in zh and "2026-08-01" in zh
    assert zh.count("请勿信") == 1
    en = client.get(f"/v/{suspended}?lang=en").get_data(as_text=True)
    assert "Suspended since" in en and "Suspended until" in en
    assert en.lower().count("not rely") == 1


def test_wrong_check_code_warning_comes_before_the_status_and_without_a_tick(client, lowered):
    page = client.get(f"/v/{lowered}?c=WRONG1").get_data(as_text=True)
    assert page.index("此二维码并非本平台签发") < page.index('id="verify-status-word"')
    word = page[page.index('id="verify-status-word"'):]
    assert "✔" not in word[:word.index("</p>")]


def test_lowered_level_is_explained_on_v_and_the_certificate_page_in_both_languages(client, lowered):
    for path in (f"/v/{lowered}", f"/certificates/{lowered}"):
        zh = client.get(path).get_data(as_text=True)
        assert "已于 2026-06-01 依据公开的投诉处理规则由五星降级" in zh, path
        en = client.get(path, query_string={"lang": "en"}).get_data(as_text=True)
        assert "Level lowered from" in en and "under the published complaint rules" in en, path


def test_a_level_that_was_raised_is_not_called_lowered(app, client):
    with app.app_context():
        certificate = issued(level="3")
        lifecycle.change_level(certificate, new_level="4", reason="复评通过，等级提升", actor=SYSTEM)
        db.session.commit()
        number = certificate.number
    assert "降级" not in client.get(f"/v/{number}").get_data(as_text=True)


def test_every_status_icon_is_a_symbol_common_cjk_fonts_have(app):
    # ⌛ (U+231B) is an emoji-range glyph that common CJK fonts lack; ○ (in GB 2312) is in every CJK font.
    common = {"✔", "‖", "✖", "⊘", "○"}
    with app.test_request_context():
        icons = {view.word: view.icon for view in presenters.all_status_views()}
    assert set(icons.values()) <= common and "⌛" not in icons.values(), icons
