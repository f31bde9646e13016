"""Journeys walked end to end as a newcomer would, in zh-Hans and English, on a phone (360 px) and a desktop
(1280 px): the verify box, a suspended or lowered certificate's /v/ page, the bulk bidder check, signing in."""
from __future__ import annotations

import pytest

from registry.extensions import db
from tests.factories import make_certificate, make_company

WIDTHS = [360, 1280]
LANGS = {"zh-Hans": "zh-CN", "en": "en-US"}
TEXT = {
    "did_you_mean": {"zh-Hans": "您要找的是不是以下证书", "en": "Did you mean one of these?"},
    "forged": {"zh-Hans": "伪造", "en": "forged"},
    "check": {"zh-Hans": "查询", "en": "Check"},
}


@pytest.fixture(params=[(lang, width) for lang in LANGS for width in WIDTHS], ids=lambda p: f"{p[0]}-{p[1]}px")
def view(request, chromium):
    """A browser page in one language at one width."""
    lang, width = request.param
    context = chromium.new_context(viewport={"width": width, "height": 800}, locale=LANGS[lang])
    page = context.new_page()
    yield lang, width, page
    context.close()


def _no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.fixture
def lingsheng(live_app):
    with live_app.app_context():
        cert = make_certificate(make_company(name="贵阳翎晟装饰材料有限责任公司"))
        db.session.commit()
        return cert.number


def test_verify_box_with_a_partial_name_offers_the_company_and_a_search_never_forged(live_server, view, lingsheng):
    lang, width, page = view
    page.goto(f"{live_server}/certificates/lookup?lang={lang}")
    page.fill("#verify-q", "翎晟")
    page.locator("form.verify-box button[type=submit]").click()
    section = page.locator("#did-you-mean")
    assert TEXT["did_you_mean"][lang] in section.inner_text()
    assert TEXT["forged"][lang] not in page.locator("main").inner_text()
    _no_sideways_scroll(page, width)
    page.locator("#search-link").click()
    assert "/search" in page.url and "翎晟" in page.locator("body").inner_text()
    page.go_back()
    section.get_by_role("link", name="贵阳翎晟装饰材料有限责任公司").click()
    assert page.url.endswith(f"/certificates/{lingsheng}")
