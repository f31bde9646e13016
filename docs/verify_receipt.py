#!/usr/bin/env python3
"""Check a registry verification receipt offline, without trusting the site.

    python3 verify_receipt.py receipt.json "<verifier key>"

The verifier key is the line the registry publishes at /ledger/key (and in its README), for example
    registry.example/ledger+1a2b3c4d+AbCd...  (name + key id + base64(0x01 ‖ Ed25519 public key))
Get it once, from a source you trust, and keep it: receipts stay checkable for as long as you have it.

It checks
  1. the receipt's own signature (Ed25519 over the canonical JSON of "receipt");
  2. the checkpoint's signature (C2SP signed note) and that it names the key's log;
  3. for each certificate, that its latest ledger entry (printed) is in the log the checkpoint fixes,
     with the RFC 9162 §2.1.3.2 inclusion-proof algorithm.
The Merkle part uses only the standard library; the Ed25519 signatures need the `cryptography` package
(pip install cryptography), because Ed25519 written out by hand would be longer than this script.
Exit status 0: everything checks; 1: something does not (the reason is printed).
"""
import base64
import hashlib
import json
import sys


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(index, size, leaf, proof):
    """RFC 9162 §2.1.3.2: the root the proof leads to, or None when it cannot belong to (index, size)."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def ed25519_verify(public_key, signature, message):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def parse_verifier_key(text):
    name, key_id, key = text.strip().split("+", 2)
    raw = base64.b64decode(key)
    if raw[:1] != b"\x01" or len(raw) != 33:
        raise ValueError("not an Ed25519 verifier key")
    if hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() != key_id:
        raise ValueError("the verifier key's id does not match its name and key")
    return name, bytes.fromhex(key_id), raw[1:]


def open_checkpoint(text, name, key_id, public_key):
    """(size, root) of a checkpoint signed by the key; raises ValueError otherwise."""
    body, _, signatures = text.partition("\n\n")
    body += "\n"
    for line in signatures.rstrip("\n").split("\n"):
        signer, _, value = line.removeprefix("\u2014 ").rpartition(" ")
        raw = base64.b64decode(value)
        if signer == name and raw[:4] == key_id:
            if not ed25519_verify(public_key, raw[4:], body.encode("utf-8")):
                raise ValueError("the checkpoint's signature does not verify")
            origin, size, root = body.split("\n")[:3]
            if origin != name:
                raise ValueError("the checkpoint is for another log")
            return int(size), base64.b64decode(root)
    raise ValueError("the checkpoint is not signed by this key")


def main(receipt_path, verifier_key):
    name, key_id, public_key = parse_verifier_key(verifier_key)
    with open(receipt_path, encoding="utf-8") as handle:
        document = json.load(handle)
    body, signature = document["receipt"], document["signature"]
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if not ed25519_verify(public_key, bytes.fromhex(signature["value"]), canonical):
        raise ValueError("the receipt's signature does not verify (changed, or another key)")
    print("receipt signature: ok")
    proofs = body["transparency"]
    size, root = open_checkpoint(proofs["checkpoint"], name, key_id, public_key)
    print(f"checkpoint: ok, {size} entries, root {base64.b64encode(root).decode()}")
    for item in proofs["entries"]:
        entry = json.loads(item["entry"])
        if entry["certificate_number"] != item["number"] or entry["seq"] != item["index"] + 1:
            raise ValueError(f"{item['number']}: the proof is for another entry")
        path = [base64.b64decode(h) for h in item["inclusion_proof"]]
        if root_from_inclusion(item["index"], size, leaf_hash(item["entry"].encode("utf-8")), path) != root:
            raise ValueError(f"{item['number']}: the entry is NOT in the log the checkpoint fixes")
        print(f"{item['number']}: entry #{entry['seq']} ({entry['kind']}, status {entry['status_after']}, "
              f"effective {entry['effective_on']}) is in the log")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    try:
        sys.exit(main(sys.argv[1], sys.argv[2]))
    except (ValueError, KeyError) as error:
        print(f"NOT VERIFIED: {error}", file=sys.stderr)
        sys.exit(1)
