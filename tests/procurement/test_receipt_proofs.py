"""Receipts that prove themselves: each certificate's latest ledger entry, its inclusion proof and the
checkpoint, checked here only with what the receipt and the public key give (as an offline reader would)."""
from __future__ import annotations

import base64
import hashlib
import json

from pymerkle import InmemoryTree

from registry.ledger import merkle, note, tlog
from registry.ledger.chain import canonical_bytes
from tests.procurement.test_receipts import download_receipt


def _public_key(app):
    with app.app_context():
        return tlog.signing_key().public_key()


def test_bulk_receipt_carries_a_verifiable_proof_for_each_certificate(app, client, register):
    body = json.loads(download_receipt(client, f"{register.five_star}\n{register.suspended}\n99999SV99999R9"))["receipt"]
    proofs = body["transparency"]
    checkpoint = note.open_checkpoint(proofs["checkpoint"], proofs["origin"], _public_key(app))
    assert [e["number"] for e in proofs["entries"]] == sorted([register.five_star, register.suspended])
    for entry in proofs["entries"]:
        data = json.loads(entry["entry"])
        assert data["certificate_number"] == entry["number"]
        leaf = merkle.leaf_hash(entry["entry"].encode("utf-8"))
        assert base64.b64encode(leaf).decode() == entry["leaf_hash"]
        path = [base64.b64decode(h) for h in entry["inclusion_proof"]]
        assert merkle.verify_inclusion(entry["index"], checkpoint.size, leaf, path, checkpoint.root)
    # The five-star certificate's latest entry is its level change, not its issue.
    five = next(e for e in proofs["entries"] if e["number"] == register.five_star)
    assert json.loads(five["entry"])["kind"] != "issued"


def test_receipt_checkpoint_is_kept_and_its_root_is_pymerkles_over_the_export(app, client, register):
    body = json.loads(download_receipt(client, register.five_star))["receipt"]
    listed = client.get("/ledger/checkpoints?format=json").get_json()["checkpoints"]
    assert body["transparency"]["checkpoint"] in [c["checkpoint"] for c in listed]
    theirs = InmemoryTree(algorithm="sha256")
    for line in client.get("/ledger.jsonl").get_data(as_text=True).splitlines():
        theirs.append_entry(canonical_bytes(json.loads(line)))
    size = body["transparency"]["tree_size"]
    assert base64.b64encode(theirs.get_root(size)).decode() == body["transparency"]["checkpoint"].split("\n")[2]


def test_tlog_proof_text_has_the_c2sp_layout(app, client, register):
    entry = json.loads(download_receipt(client, register.suspended))["receipt"]["transparency"]["entries"][0]
    head, _, checkpoint = entry["tlog_proof"].partition("\n\n")
    lines = head.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1" and lines[1] == f"index {entry['index']}"
    assert lines[2:] == entry["inclusion_proof"]
    assert checkpoint.startswith("registry.test/ledger\n")


def test_a_changed_entry_in_a_receipt_no_longer_matches_its_proof(app, client, register):
    entry = json.loads(download_receipt(client, register.suspended))["receipt"]["transparency"]["entries"][0]
    proofs = json.loads(download_receipt(client, register.suspended))["receipt"]["transparency"]
    checkpoint = note.open_checkpoint(proofs["checkpoint"], proofs["origin"], _public_key(app))
    forged = entry["entry"].replace('"suspended"', '"valid"')
    assert forged != entry["entry"]
    path = [base64.b64decode(h) for h in entry["inclusion_proof"]]
    assert not merkle.verify_inclusion(entry["index"], checkpoint.size, merkle.leaf_hash(forged.encode()), path,
                                       checkpoint.root)


def test_api_receipt_carries_the_proofs_too(app, client, register):
    response = client.post("/api/v1/verify", json={"identifiers": [register.five_star], "receipt": True})
    assert response.status_code == 200, response.get_data(as_text=True)
    proofs = response.get_json()["receipt"]["receipt"]["transparency"]
    assert proofs["entries"][0]["number"] == register.five_star
    assert hashlib.sha256(b"").digest() != base64.b64decode(proofs["checkpoint"].split("\n")[2])


def test_printable_receipt_page_shows_the_checkpoint(app, client, register):
    page = client.post("/verify/bulk/receipt?lang=en", data={"identifiers": register.five_star, "on": "2026-05-01"})
    text_ = page.get_data(as_text=True)
    assert page.status_code == 200 and "Transparency log" in text_ and "registry.test/ledger\n" in text_


def _run_documented_script(tmp_path, client, receipt_text: str):
    import subprocess
    import sys
    from pathlib import Path
    path = tmp_path / "receipt.json"
    path.write_text(receipt_text, encoding="utf-8")
    key = client.get("/ledger/key").get_data(as_text=True).strip()
    script = Path(__file__).resolve().parents[2] / "docs" / "verify_receipt.py"
    return subprocess.run([sys.executable, str(script), str(path), key], capture_output=True, text=True, timeout=60)


def test_the_documented_script_verifies_a_receipt_offline(app, client, register, tmp_path):
    result = _run_documented_script(tmp_path, client, download_receipt(client, f"{register.five_star}\n{register.suspended}"))
    assert result.returncode == 0, result.stderr
    assert "receipt signature: ok" in result.stdout
    assert f"{register.suspended}: entry #" in result.stdout and "status suspended" in result.stdout


def test_the_documented_script_refuses_a_receipt_whose_proof_was_swapped(app, client, register, tmp_path):
    document = json.loads(download_receipt(client, register.suspended))
    entries = document["receipt"]["transparency"]["entries"]
    entries[0]["entry"] = entries[0]["entry"].replace('"suspended"', '"valid"')
    result = _run_documented_script(tmp_path, client, json.dumps(document, ensure_ascii=False))
    assert result.returncode == 1 and "NOT VERIFIED" in result.stderr
