"""A procurement officer pastes bidders, checks them on the bid deadline and gets a signed receipt (CSRF on)."""
from __future__ import annotations

from tests.procurement.conftest import build_register


def test_officer_pastes_bidders_and_gets_a_signed_receipt_that_checks(live_app, live_server, page):
    register = build_register(live_app)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.set_default_timeout(5000)
    page.goto(f"{live_server}/lang/en?next=/")
    page.get_by_role("link", name="Bulk check").click()
    page.fill("#bulk-identifiers", f"{register.five_star}\n{register.twin_name}\nnobody")
    page.fill("#bulk-on", "2026-05-01")
    page.get_by_role("button", name="Check all").click()
    assert page.locator(".result-count").inner_text() == "1 found, 1 ambiguous, 1 not found."
    assert "Level lowered in the last 12 months" in page.locator(".bulk-results").inner_text()

    page.get_by_role("button", name="Signed receipt (printable)").click()
    assert page.get_by_role("heading", name="Verification receipt").is_visible()
    signed = page.locator("#receipt-text").input_value()

    page.goto(f"{live_server}/verify/receipt")
    page.fill("#receipt-paste", signed)
    page.get_by_role("button", name="Check receipt").click()
    assert page.get_by_role("heading", name="Genuine receipt").is_visible()

    page.goto(f"{live_server}/verify/receipt")
    page.fill("#receipt-paste", signed.replace('"match":"exact"', '"match":"exacT"', 1))
    page.get_by_role("button", name="Check receipt").click()
    assert page.get_by_role("heading", name="Not a genuine receipt").is_visible()
