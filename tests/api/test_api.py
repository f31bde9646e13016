"""The JSON API: field names, filters, pagination, status on a date, bulk verify, errors, CORS, 429."""
from __future__ import annotations

import pytest

from tests.conftest import make_app
from tests.procurement.conftest import build_register


def test_certificate_by_number_uses_english_snake_case_fields(client, register):
    body = client.get(f"/api/v1/certificates/{register.five_star}").get_json()
    assert body["number"] == register.five_star
    assert body["company"] == {"name": register.five_star_name, "uscc": register.five_star_uscc, "province": "山东省",
                               "city": "青岛市", "industry": "家电"}
    assert (body["scheme"], body["level"], body["status"], body["score"]) == ("gbt27922-2011", "4", "valid", 91.0)
    assert body["issued_on"] == "2025-09-01" and body["expires_on"] == "2028-08-31"


def test_unknown_certificate_is_a_json_404(client):
    response = client.get("/api/v1/certificates/NOPE")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_search_filters_by_status_and_province_and_paginates(client, register):
    body = client.get("/api/v1/certificates?status=suspended").get_json()
    assert [c["number"] for c in body["items"]] == [register.suspended]
    body = client.get("/api/v1/certificates?province=广东省").get_json()
    assert [c["number"] for c in body["items"]] == [register.twin_numbers[0]]
    first = client.get("/api/v1/certificates?per_page=2&page=1").get_json()
    third = client.get("/api/v1/certificates?per_page=2&page=3").get_json()
    assert (first["total"], first["pages"], len(first["items"]), len(third["items"])) == (5, 3, 2, 1)
    assert client.get("/api/v1/certificates?q=海澜").get_json()["items"][0]["number"] == register.five_star


def test_bad_query_parameters_answer_422_naming_the_field(client):
    response = client.get("/api/v1/certificates?per_page=1000")
    assert response.status_code == 422 and "per_page" in response.get_json()["error"]["fields"]
    response = client.get("/api/v1/certificates?status=maybe")
    assert response.status_code == 422 and "status" in response.get_json()["error"]["fields"]


def test_company_by_credit_code_tolerates_spaces_and_dashes(client, register):
    spaced = register.five_star_uscc[:6] + " - " + register.five_star_uscc[6:]
    body = client.get(f"/api/v1/companies/{spaced}").get_json()
    assert body["uscc"] == register.five_star_uscc and [c["number"] for c in body["certificates"]] == [register.five_star]
    assert client.get("/api/v1/companies/91110108000000071X").status_code == 404


def test_status_on_a_date_comes_from_the_ledger(client, register):
    before = client.get(f"/api/v1/certificates/{register.five_star}/status?on=2025-12-01").get_json()
    assert (before["issued"], before["status"], before["level"]) == (True, "valid", "5")
    earlier = client.get(f"/api/v1/certificates/{register.five_star}/status?on=2025-08-01").get_json()
    assert (earlier["issued"], earlier["status"]) == (False, None)
    assert client.get(f"/api/v1/certificates/{register.five_star}/status?on=1.2.2025").status_code == 422


def test_bulk_verify_answers_each_identifier_in_order(client, register):
    response = client.post("/api/v1/verify", json={
        "identifiers": [register.five_star, register.twin_name, "nobody", register.suspended], "on": "2026-05-01"})
    body = response.get_json()
    assert response.status_code == 200
    assert [r["match"] for r in body["results"]] == ["exact", "ambiguous", "not_found", "exact"]
    assert body["counts"] == {"exact": 2, "ambiguous": 1, "not_found": 1}
    suspended = body["results"][3]
    assert (suspended["status"], suspended["on"]["status"]) == ("suspended", "valid")
    assert "suspended" in suspended["flags"]
    assert "level_lowered_last_12_months" in body["results"][0]["flags"]
    assert body["results"][0]["open_complaints"] == 0
    assert len(body["results"][1]["candidates"]) == 2


def test_bulk_verify_can_return_a_signed_receipt(client, register):
    body = client.post("/api/v1/verify", json={"identifiers": [register.five_star], "receipt": True}).get_json()
    from registry.procurement import receipts
    text = receipts.dumps(body["receipt"])
    page = client.post("/verify/receipt?lang=en", data={"receipt": text}).get_data(as_text=True)
    assert "Genuine receipt" in page


@pytest.mark.parametrize("payload, field", [
    ({"identifiers": []}, "identifiers"),
    ({"identifiers": ["x"] * 1001}, "identifiers"),
    ({"identifiers": [1]}, "identifiers"),
    ({"identifiers": ["x"], "on": "tomorrow"}, "on"),
    ({"identifiers": ["x"], "extra": 1}, "extra"),
])
def test_bulk_verify_refuses_bad_bodies_with_422(client, payload, field):
    response = client.post("/api/v1/verify", json=payload)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_bulk_verify_needs_json_and_no_csrf_token(client):
    response = client.post("/api/v1/verify", data="identifiers=x")
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid"


def test_complaint_statistics_count_a_filed_complaint(client, register):
    from tests.complaints.conftest import file_via_client
    file_via_client(client, register.five_star)
    body = client.get(f"/api/v1/certificates/{register.five_star}/complaints").get_json()
    assert body["available"] is True
    assert body["statistics"]["open"] == 1 and body["statistics"]["received"] == 1


def test_ledger_entries_page_with_after_and_head(client, register):
    body = client.get("/api/v1/ledger?limit=3").get_json()
    assert [e["seq"] for e in body["entries"]] == [1, 2, 3] and body["next_after"] == 3
    rest = client.get("/api/v1/ledger?after=3&limit=100").get_json()
    assert rest["next_after"] is None and rest["entries"][-1]["hash"] == body["head"]["hash"]
    assert rest["entries"][0]["prev_hash"] == body["entries"][-1]["hash"]


def test_get_answers_carry_read_only_cors_but_post_does_not(client, register):
    response = client.get("/api/v1/certificates")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" not in response.headers["Access-Control-Allow-Methods"]
    response = client.post("/api/v1/verify", json={"identifiers": ["x"]})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_openapi_document_describes_the_routes(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert {"/certificates", "/certificates/{number}", "/verify", "/ledger", "/companies/{uscc}"} <= set(document["paths"])


def test_rate_limit_answers_429_with_retry_after(tmp_path, backend):
    app = make_app(tmp_path, backend, RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute")
    build_register(app)
    client = app.test_client()
    statuses = [client.get("/api/v1/certificates").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/certificates")
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json()["error"]["code"] == "too_many_requests"


def test_status_on_a_future_bid_deadline_projects_the_expiry(client, register):
    body = client.get(f"/api/v1/certificates/{register.expiring}/status?on=2026-08-15").get_json()
    assert (body["status"], body["status_today"]) == ("expired", "valid")


def test_preflight_allows_only_reading_methods(client):
    response = client.options("/api/v1/certificates", headers={
        "Origin": "https://buyer.example", "Access-Control-Request-Method": "GET"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert set(response.headers["Access-Control-Allow-Methods"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}
