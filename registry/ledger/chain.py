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
