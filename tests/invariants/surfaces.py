"""What each public surface says about a certificate's status and level, read the way a user or a program
reads it: the certificate page, /v/, the register filter, search (results, filter, facet counts), the API
(record, status on a date, list filter), the bulk check, open data and the certificate's feed.

Every reader returns plain values (status codes as in the API: valid, suspended, revoked, withdrawn,
expired; level ids) so the invariant tests compare them with one another and with the status rule.
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from registry.certificates.rules import CertificateStatus

STATUSES = [s.value for s in CertificateStatus]
ATOM = "{http://www.w3.org/2005/Atom}"


def _html(client, url: str, **params) -> str:
    response = client.get(url, query_string=params)
    assert response.status_code == 200, (url, params, response.status_code)
    return response.get_data(as_text=True)


def detail_page(client, number: str) -> tuple[str, str]:
    """(status, level name) shown at the top of /certificates/<number>."""
    page = _html(client, f"/certificates/{number}")
    found = re.search(r'class="status-line"><span class="badge status-(\w+)">.*?class="level-name">([^<]+)<', page, re.S)
    assert found, f"no status line on /certificates/{number}"
    return found.group(1), found.group(2)


def verify_page(client, number: str, on: str | None = None) -> tuple[str, str]:
    """(status, level name) on /v/<number> (today's answer, not the dated one)."""
    page = _html(client, f"/v/{number}", **({"on": on} if on else {}))
    status = re.search(r'class="verify-status status-(\w+)"', page)
    level = re.search(r'class="verify-level">.*?class="level-name">([^<]+)<', page, re.S)
    assert status and level, f"no status on /v/{number}"
    return status.group(1), level.group(1)


def verify_page_text(client, number: str, on: str) -> str:
    return _html(client, f"/v/{number}", on=on)


def verify_day(client, number: str, on: str) -> tuple[str | None, str | None]:
    """(status, level name) in the dated answer of /v/<number>?on=<day>; (None, None) when not issued."""
    answer = verify_page_text(client, number, on).split('class="day-answer"', 1)[1].split("</div>", 1)[0]
    status = re.search(r'class="badge status-(\w+)"', answer)
    level = re.search(r'class="level-name">([^<]+)<', answer)
    return (status.group(1) if status else None), (level.group(1) if level else None)


def bulk_check_on(client, numbers: list[str], on: str) -> dict[str, tuple[str | None, str | None]]:
    """{number: (status, level) on the day asked} from the bulk check API."""
    data = client.post("/api/v1/verify", json={"identifiers": numbers, "on": on}).get_json()
    return {row["number"]: (row["on"]["status"], row["on"]["level"]) for row in data["results"]}


def _numbers(page: str) -> list[str]:
    return re.findall(r'<span class="mono">([^<]+)</span>', page)


def register_filter(client) -> dict[str, str]:
    """{number: status} from /certificates?status=<each status> (a certificate must be under exactly one)."""
    found: dict[str, str] = {}
    for status in STATUSES:
        for number in _numbers(_html(client, "/certificates", status=status)):
            assert number not in found, f"{number} listed under status={found[number]} and status={status}"
            found[number] = status
    return found


def search_results(client, **params) -> dict[str, str]:
    """{number: status shown on its result line} on /search."""
    page = _html(client, "/search", **params)
    hits = re.findall(r'<li class="cert-card search-hit hit-(\w+)">.*?<span class="mono">([^<]+)</span>', page, re.S)
    return {number: status for status, number in hits}


def search_facets(client, **params) -> dict[str, int]:
    """The status facet's counts on /search: {status: count}."""
    page = _html(client, "/search", **params)
    counts = {}
    for status, count in re.findall(r'href="/search\?[^"]*status=(\w+)[^"]*">[^<]*</a> <span class="count">\((\d+)\)',
                                    page):
        counts[status] = int(count)
    return counts


def search_filter(client) -> dict[str, str]:
    """{number: status} from /search?status=<each status>, checking each line shows the status filtered on."""
    found: dict[str, str] = {}
    for status in STATUSES:
        for number, shown in search_results(client, status=status).items():
            assert shown == status, f"{number} found under status={status} but its result line says {shown}"
            assert number not in found, f"{number} found under status={found[number]} and status={status}"
            found[number] = status
    return found


def api_record(client, number: str) -> tuple[str, str]:
    data = client.get(f"/api/v1/certificates/{number}").get_json()
    return data["status"], data["level"]


def api_status_on(client, number: str, on: str | None = None) -> dict:
    response = client.get(f"/api/v1/certificates/{number}/status", query_string={"on": on} if on else {})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def api_filter(client) -> dict[str, str]:
    found: dict[str, str] = {}
    for status in STATUSES:
        data = client.get("/api/v1/certificates", query_string={"status": status, "per_page": 100}).get_json()
        for item in data["items"]:
            assert item["status"] == status, (item["number"], status, item["status"])
            found[item["number"]] = status
    return found


def bulk_check(client, numbers: list[str]) -> dict[str, tuple[str, str, str | None]]:
    """{number: (status today, level, status on the day asked = today)} from the bulk check API."""
    data = client.post("/api/v1/verify", json={"identifiers": numbers}).get_json()
    return {row["number"]: (row["status"], row["level"], row["on"]["status"]) for row in data["results"]}


def open_data(client) -> dict[str, tuple[str, str]]:
    response = client.get("/data/certificates.jsonl")
    assert response.status_code == 200
    rows = [json.loads(line) for line in response.get_data(as_text=True).splitlines() if line.startswith("{")]
    return {row["number"]: (row["status"], row["level"]) for row in rows if "number" in row}


def feed_entry_ids(client, number: str) -> list[str]:
    response = client.get(f"/feeds/certificates/{number}.atom")
    assert response.status_code == 200
    root = ET.fromstring(response.get_data())
    return [e.find(f"{ATOM}id").text for e in root.findall(f"{ATOM}entry")]
