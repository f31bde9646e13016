"""Atom feeds (parsed with xml.etree: required elements present) and watchlists."""
from __future__ import annotations

from xml.etree import ElementTree as ET

NS = {"a": "http://www.w3.org/2005/Atom"}


def parse_atom(response) -> ET.Element:
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    # RFC 4287 §4.1.1: a feed has exactly one id, title and updated, an author, and a self link.
    for tag in ("id", "title", "updated"):
        assert len(root.findall(f"a:{tag}", NS)) == 1, tag
    assert root.find("a:author/a:name", NS).text
    assert root.find("a:link[@rel='self']", NS) is not None
    for entry in root.findall("a:entry", NS):
        for tag in ("id", "title", "updated"):
            assert entry.find(f"a:{tag}", NS) is not None and entry.find(f"a:{tag}", NS).text, tag
        assert entry.find("a:link[@rel='alternate']", NS).get("href").startswith("https://registry.test/certificates/")
    return root


def titles(root) -> list[str]:
    return [e.find("a:title", NS).text for e in root.findall("a:entry", NS)]


def test_all_changes_feed_lists_every_event_newest_first(client, register):
    root = parse_atom(client.get("/feeds/changes.atom?lang=en"))
    found = titles(root)
    assert len(found) == 7  # 5 issued, 1 level change, 1 suspension
    assert found[0].startswith(register.twin_numbers[1])
    assert any(t.startswith(register.five_star) and "Level changed" in t for t in found)


def test_certificate_feed_has_only_that_certificate(client, register):
    root = parse_atom(client.get(f"/feeds/certificates/{register.suspended}.atom?lang=en"))
    assert [t.split(":")[0] for t in titles(root)] == [register.suspended, register.suspended]
    assert "Suspended" in titles(root)[0]


def test_province_feed_filters_by_the_company_province(client, register):
    root = parse_atom(client.get("/feeds/provinces/山东省.atom"))
    assert {t.split(":")[0] for t in titles(root)} == {register.five_star}


def test_unknown_certificate_or_province_feed_is_404(client, register):
    assert client.get("/feeds/certificates/NOPE.atom").status_code == 404
    assert client.get("/feeds/provinces/火星.atom").status_code == 404


def test_watchlist_gives_an_unguessable_feed_of_the_listed_suppliers(client, register):
    response = client.post("/feeds/watch?lang=en", data={"usccs": f"{register.five_star_uscc}\n"})
    assert response.status_code == 302
    page_url = response.headers["Location"]
    token = page_url.rsplit("/", 1)[1]
    assert len(token) >= 32
    page = client.get(page_url + "?lang=en").get_data(as_text=True)
    assert register.five_star_name in page and f"/feeds/watch/{token}.atom" in page
    root = parse_atom(client.get(f"/feeds/watch/{token}.atom"))
    assert {t.split(":")[0] for t in titles(root)} == {register.five_star}
    assert client.get("/feeds/watch/guessed-token.atom").status_code == 404


def test_watchlist_refuses_an_invalid_credit_code_and_stores_nothing(app, client):
    response = client.post("/feeds/watch?lang=en", data={"usccs": "91110108000000071X"})
    assert response.status_code == 422
    assert "is not a valid unified social credit code" in response.get_data(as_text=True)
    with app.app_context():
        from registry.extensions import db
        from registry.procurement.models import Watchlist
        assert db.session.query(Watchlist).count() == 0


def test_feeds_page_lists_provinces_and_the_form(client, register):
    page = client.get("/feeds").get_data(as_text=True)
    assert "/feeds/changes.atom" in page and 'name="usccs"' in page
    assert "山东省" in page
