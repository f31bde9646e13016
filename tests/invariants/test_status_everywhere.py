"""Reproductions: a status that only the dates change (overdue surveillance, a suspension that ran out, a
revocation before expiry) shows the same on every public surface without the daily tick; and the status
on a day of an earlier validity cycle is answered after a recertification."""
from __future__ import annotations

import datetime as dt

import pytest

from registry.extensions import db
from registry.search.outbox import queue_certificate
from tests.factories import make_certificate
from tests.invariants import surfaces, world

# Today is pinned to 2026-06-01 (tests/conftest.py).
CASES = {
    # Issued 2025-01-15, never audited since: surveillance due 2026-01-15, overdue from 2026-01-16.
    "overdue": (dict(issued_on=dt.date(2025, 1, 15)), "suspended"),
    # Overdue since 2025-09-02: the six-month suspension ended 2026-03-02, so revoked from 2026-03-03.
    "overdue_long": (dict(issued_on=dt.date(2024, 9, 1)), "revoked"),
    # An officer's suspension that ended 2026-05-01 without a restore.
    "ran_out": (dict(issued_on=dt.date(2025, 9, 1), status="suspended", suspended_until=dt.date(2026, 5, 1)), "revoked"),
    # Revoked on read 2025-12-02 (suspension ended 2025-12-01), expired 2026-01-09: 撤销 stays.
    "revoked_then_expired": (dict(issued_on=dt.date(2023, 1, 10), last_surveillance_on=dt.date(2025, 1, 5),
                                  status="suspended", suspended_until=dt.date(2025, 12, 1)), "revoked"),
    # Overdue in its last weeks, then expired: 过期, the suspension did not run its course.
    "suspended_then_expired": (dict(issued_on=dt.date(2023, 5, 20), last_surveillance_on=dt.date(2025, 3, 1)), "expired"),
    "valid": (dict(issued_on=dt.date(2025, 9, 1)), "valid"),
}


@pytest.fixture
def numbers(app):
    with app.app_context():
        made = {}
        for key, (values, _expected) in CASES.items():
            certificate = make_certificate(**values)
            queue_certificate(certificate.id)
            made[key] = certificate.number
        db.session.commit()
    return made


def _expected(numbers) -> dict[str, str]:
    return {numbers[key]: expected for key, (_values, expected) in CASES.items()}


def test_the_rule_itself_says_what_the_cases_expect(app, numbers):
    assert {n: world.truth(app, n)[0] for n in numbers.values()} == _expected(numbers)


def test_search_results_show_the_status_the_dates_give_without_the_tick(client, numbers):
    assert surfaces.search_results(client) == _expected(numbers)  # all on the first page


def test_search_status_filter_finds_each_certificate_under_its_status(client, numbers):
    assert surfaces.search_filter(client) == _expected(numbers)
    assert set(surfaces.search_results(client, status="revoked")) == {
        numbers["overdue_long"], numbers["ran_out"], numbers["revoked_then_expired"]}
    assert numbers["overdue"] not in surfaces.search_results(client, status="valid")


def test_search_facet_counts_follow_the_rule(client, numbers):
    assert surfaces.search_facets(client) == {"valid": 1, "suspended": 1, "revoked": 3, "expired": 1}


def test_register_filter_api_bulk_check_and_open_data_agree(client, numbers):
    expected = _expected(numbers)
    assert surfaces.register_filter(client) == expected
    assert surfaces.api_filter(client) == expected
    assert {n: s for n, (s, _level) in surfaces.open_data(client).items()} == expected
    checked = surfaces.bulk_check(client, list(expected))
    assert {n: today for n, (today, _level, _on) in checked.items()} == expected
    assert {n: on for n, (_today, _level, on) in checked.items()} == expected
    for number, status in expected.items():
        assert surfaces.api_record(client, number)[0] == status
        assert surfaces.api_status_on(client, number)["status"] == status
        assert surfaces.detail_page(client, number)[0] == status
        assert surfaces.verify_page(client, number)[0] == status


def test_a_revocation_before_expiry_is_still_revoked_on_a_later_day(client, numbers):
    number = numbers["revoked_then_expired"]
    assert surfaces.api_status_on(client, number, on="2026-01-05")["status"] == "revoked"
    assert surfaces.api_status_on(client, number, on="2026-03-01")["status"] == "revoked"
    assert surfaces.api_status_on(client, number, on="2025-11-30")["status"] == "suspended"


def test_the_status_on_a_day_of_the_first_cycle_is_answered_after_a_recertification(app, client):
    world.set_today(app, dt.date(2024, 3, 1))
    number = world.issue(app)
    for year in (2025, 2026):
        world.set_today(app, dt.date(year, 2, 20))
        assert world.surveillance(app, number, 93)
    world.set_today(app, dt.date(2027, 1, 10))
    assert world.recertify(app, number, 94)
    page = surfaces.verify_page_text(client, number, on="2024-06-01")
    assert 'class="day-answer"' in page and "尚未发证" not in page
    assert 'class="badge status-valid"' in page.split('class="day-answer"')[1]
    assert surfaces.api_status_on(client, number, on="2024-06-01")["status"] == "valid"
    assert surfaces.api_status_on(client, number, on="2024-02-29")["issued"] is False


def test_the_search_database_fallback_answers_the_same(app, client, numbers):
    import shutil

    from registry.search import state
    with app.app_context():
        shutil.rmtree(state().store.root)
    page = client.get("/search").get_data(as_text=True)
    assert "search-degraded" in page
    assert surfaces.search_results(client) == _expected(numbers)
    assert surfaces.search_filter(client) == _expected(numbers)
    assert surfaces.search_facets(client) == {"valid": 1, "suspended": 1, "revoked": 3, "expired": 1}
