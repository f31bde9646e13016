"""Signed receipts: issue, check, tamper detection (any one character), the public key and the CLI."""
from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from registry.procurement import receipts


def download_receipt(client, identifiers: str, on: str = "2026-05-01") -> str:
    response = client.post("/verify/bulk/receipt", data={"identifiers": identifiers, "on": on, "format": "json"})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_data(as_text=True)


def check(client, text: str) -> str:
    return client.post("/verify/receipt?lang=en", data={"receipt": text}).get_data(as_text=True)


def test_receipt_holds_query_results_time_ledger_head_and_identity(client, register):
    document = json.loads(download_receipt(client, f"{register.five_star}\n{register.twin_name}"))
    body = document["receipt"]
    assert body["query"] == {"identifiers": [register.five_star, register.twin_name], "on": "2026-05-01",
                             "today": "2026-06-01"}
    assert [r["match"] for r in body["results"]] == ["exact", "ambiguous"]
    assert body["results"][0]["company"]["name"] == register.five_star_name
    assert body["issued_at"] and body["ledger_head"]["hash"] and body["registry"]["base_url"] == "https://registry.test"
    assert document["signature"]["algorithm"] == "Ed25519"


def test_downloaded_receipt_checks_as_genuine(client, register):
    page = check(client, download_receipt(client, register.five_star))
    assert "Genuine receipt" in page and register.five_star_name in page


def test_receipt_checks_when_uploaded_as_a_file(client, register):
    import io
    text = download_receipt(client, register.five_star)
    page = client.post("/verify/receipt?lang=en", data={"file": (io.BytesIO(text.encode()), "receipt.json")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "Genuine receipt" in page


def test_changing_any_single_character_makes_the_receipt_fail(app, client, register):
    text = download_receipt(client, f"{register.five_star}\n{register.suspended}")
    with app.app_context():
        from registry.procurement import services
        public_key = services.current_signing_key().public_key()
    assert receipts.verify_text(text, public_key).body["query"]["on"] == "2026-05-01"
    for index, char in enumerate(text):
        replacement = "0" if char != "0" else "1"
        tampered = text[:index] + replacement + text[index + 1:]
        with pytest.raises(receipts.ReceiptInvalid):
            receipts.verify_text(tampered, public_key)


def test_changed_status_in_a_receipt_is_shown_as_not_genuine(client, register):
    text = download_receipt(client, register.suspended, on="2026-05-01")
    tampered = text.replace('"status":"suspended"', '"status":"valid"', 1)
    assert tampered != text
    page = check(client, tampered)
    assert "Not a genuine receipt" in page and "changed after it was issued" in page


def test_receipt_signed_by_another_key_is_refused(client, register):
    forged = receipts.dumps(receipts.sign({"query": {}}, Ed25519PrivateKey.generate()))
    assert "different key" in check(client, forged)


def test_garbage_and_empty_input_get_clear_answers(client):
    assert "not valid JSON" in check(client, "{not json")
    assert "not a receipt of this registry" in check(client, '{"a": 1}')
    response = client.post("/verify/receipt?lang=en", data={"receipt": "  "})
    assert response.status_code == 422 and "Paste a receipt" in response.get_data(as_text=True)


def test_printable_receipt_page_shows_results_and_the_signed_text(client, register):
    page = client.post("/verify/bulk/receipt?lang=en", data={"identifiers": register.five_star, "on": "",
                                                             "format": "html"}).get_data(as_text=True)
    assert "Verification receipt" in page and register.five_star_name in page
    assert "&#34;signature&#34;" in page or "&quot;signature&quot;" in page


def test_well_known_key_matches_the_receipt_key_id(client, register):
    key_info = client.get("/.well-known/registry-signing-key").get_json()
    public_key = load_pem_public_key(key_info["public_key_pem"].encode())
    assert receipts.fingerprint(public_key) == key_info["key_id"]
    document = json.loads(download_receipt(client, register.five_star))
    assert document["signature"]["key_id"] == key_info["key_id"]
    # Anyone can check offline: the signature covers the canonical JSON of "receipt".
    public_key.verify(bytes.fromhex(document["signature"]["value"]), receipts.canonical_json(document["receipt"]))


def test_keys_generate_prints_the_fingerprint_and_refuses_to_overwrite(app, runner):
    result = runner.invoke(args=["keys", "generate"])
    assert result.exit_code == 0, result.output
    fingerprint = result.output.split("fingerprint: ")[1].strip()
    assert fingerprint.startswith("sha256:") and len(fingerprint) == 7 + 64
    again = runner.invoke(args=["keys", "generate"])
    assert again.exit_code != 0 and fingerprint in again.output
    assert runner.invoke(args=["keys", "fingerprint"]).output.strip() == fingerprint
    with app.test_client() as client:
        assert client.get("/.well-known/registry-signing-key").get_json()["key_id"] == fingerprint
