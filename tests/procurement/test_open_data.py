"""Open data: CSV and JSON Lines of the register, stating the ledger head, cached until it changes."""
from __future__ import annotations

import csv
import io
import json

from registry.certificates import lifecycle
from registry.certificates.lifecycle import SYSTEM
from registry.certificates.services import get_certificate
from registry.extensions import db
from registry.procurement import services


def ledger_head_hash(app) -> str:
    with app.app_context():
        return services.ledger_head().hash


def test_csv_export_states_the_ledger_head_and_lists_every_certificate(app, client, register):
    response = client.get("/data/certificates.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    first, rest = text.split("\n", 1)
    assert first.startswith("# ledger_head_seq=") and ledger_head_hash(app) in first
    assert response.headers["X-Ledger-Head-Hash"] == ledger_head_hash(app)
    rows = list(csv.DictReader(io.StringIO(rest)))
    assert len(rows) == 5
    by_number = {r["number"]: r for r in rows}
    assert by_number[register.suspended]["status"] == "suspended"
    assert by_number[register.five_star]["level"] == "4" and by_number[register.five_star]["company_name"] == register.five_star_name


def test_jsonl_export_has_a_header_record_then_one_certificate_per_line(app, client, register):
    lines = client.get("/data/certificates.jsonl").get_data(as_text=True).strip().split("\n")
    header = json.loads(lines[0])["export"]
    assert header["ledger_head_hash"] == ledger_head_hash(app)
    records = [json.loads(line) for line in lines[1:]]
    assert {r["number"] for r in records} >= {register.five_star, register.expiring}


def test_export_is_regenerated_when_the_ledger_moves(app, client, register):
    before = client.get("/data/certificates.csv")
    assert client.get("/data/certificates.csv", headers={"If-None-Match": before.headers["ETag"]}).status_code == 304
    with app.app_context():
        lifecycle.revoke_certificate(get_certificate(register.expiring), reason="严重违规", actor=SYSTEM)
        db.session.commit()
    after = client.get("/data/certificates.csv", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["X-Ledger-Head-Hash"] != before.headers["X-Ledger-Head-Hash"]
    assert f"{register.expiring}," in after.get_data(as_text=True) and ",revoked," in after.get_data(as_text=True)


def test_open_data_page_links_files_and_shows_the_key_fingerprint(client, register):
    page = client.get("/data").get_data(as_text=True)
    assert "/data/certificates.csv" in page and "sha256:" in page
