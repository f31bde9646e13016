"""Pure hashing of ledger entries: canonical JSON, SHA-256, chained through prev_hash."""
from __future__ import annotations

import datetime as dt
import hashlib
import json

GENESIS_HASH = "0" * 64

# The fields covered by an entry's hash, in the order of the public export.
HASHED_FIELDS = ("seq", "certificate_number", "kind", "effective_on", "status_after", "level_after",
                 "scheme_id", "public_text", "reason", "actor_role", "data", "recorded_at", "prev_hash")


def _plain(value):
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def canonical_bytes(fields: dict) -> bytes:
    """Canonical serialisation: only HASHED_FIELDS, sorted keys, no spaces, UTF-8 (not ASCII-escaped)."""
    payload = {name: _plain(fields.get(name)) for name in HASHED_FIELDS}
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def entry_hash(fields: dict) -> str:
    """SHA-256 of the canonical serialisation, hex."""
    return hashlib.sha256(canonical_bytes(fields)).hexdigest()


def export_line(fields: dict, hash_: str) -> str:
    """One line of the public export: the hashed fields plus "hash", in the same canonical form."""
    payload = {name: _plain(fields.get(name)) for name in HASHED_FIELDS}
    payload["hash"] = hash_
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def verify_entries(entries) -> tuple[int, str, str | None, int | None]:
    """Walk entries (dicts with HASHED_FIELDS and "hash", in seq order) and check the chain.

    Returns (entries checked, head hash, problem or None, seq of the first broken entry or None).
    Checks: seq runs 1, 2, 3…; each prev_hash is the previous entry's hash (GENESIS_HASH first);
    each hash is the SHA-256 of the entry's canonical serialisation.
    """
    previous_hash, expected_seq, count = GENESIS_HASH, 1, 0
    for entry in entries:
        seq = entry.get("seq")
        if seq != expected_seq:
            return count, previous_hash, f"sequence gap: expected #{expected_seq}, found #{seq}", seq
        if entry.get("prev_hash") != previous_hash:
            return count, previous_hash, f"entry #{seq} does not point to the hash of entry #{seq - 1}", seq
        recomputed = entry_hash(entry)
        if recomputed != entry.get("hash"):
            return count, previous_hash, f"entry #{seq} has been altered (its content no longer matches its hash)", seq
        previous_hash, expected_seq, count = entry["hash"], expected_seq + 1, count + 1
    return count, previous_hash, None, None
