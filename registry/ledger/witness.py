"""A witness of another registry's log (or our own): fetch its checkpoint, prove it extends the last one seen.

Run by anyone (`flask ledger witness URL --key VKEY`); it needs no database, only a small state file of the
checkpoints it has accepted, so a rewritten history shows up as two checkpoints signed by the same key that
no consistency proof can join: evidence anyone can check.
"""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app

from registry.ledger import merkle, note

TIMEOUT_SECONDS = 30


class WitnessError(Exception):
    """The checkpoint could not be fetched or does not verify (nothing stored)."""


@dataclass(frozen=True)
class Outcome:
    current: note.Checkpoint
    previous: note.Checkpoint | None
    conflict: bool = False
    reason: str = ""


def parse_verifier_key(text: str) -> tuple[str, Ed25519PublicKey]:
    try:
        name, key_id, key = text.strip().split("+", 2)
        raw = base64.b64decode(key, validate=True)
        public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
    except ValueError:
        raise WitnessError("the verifier key is malformed") from None
    if raw[:1] != note.ED25519 or note.key_id(name, public_key).hex() != key_id:
        raise WitnessError("the verifier key is malformed")
    return name, public_key


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            return response.read()
    except (urllib.error.URLError, OSError) as error:
        raise WitnessError(f"cannot fetch {url}: {error}") from None


def observe(base_url: str, verifier_key: str, state_path: str | None) -> Outcome:
    """Fetch, check and (when consistent) store the latest checkpoint of the log at `base_url`.

    Raises:
        WitnessError: unreachable, unsigned by the key, or a malformed answer.
    """
    name, public_key = parse_verifier_key(verifier_key)
    base = base_url.rstrip("/")
    try:
        current = note.open_checkpoint(_get(base + "/ledger/checkpoint").decode("utf-8"), name, public_key)
    except (note.NoteInvalid, UnicodeDecodeError) as error:
        raise WitnessError(f"the served checkpoint does not verify: {error}") from None
    path = Path(state_path) if state_path else Path(current_app.instance_path) / "witness" / (
        urllib.parse.quote(name, safe="") + ".jsonl")
    previous = _last(path, name, public_key)
    if previous is not None:
        problem = _inconsistency(base, previous, current)
        if problem:
            return Outcome(current, previous, conflict=True, reason=problem)
        if current.size == previous.size:
            return Outcome(current, previous)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"checkpoint": current.text}, ensure_ascii=False) + "\n")
    return Outcome(current, previous)


def _last(path: Path, name: str, public_key) -> note.Checkpoint | None:
    if not path.exists():
        return None
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return note.open_checkpoint(json.loads(lines[-1])["checkpoint"], name, public_key) if lines else None


def _inconsistency(base: str, previous: note.Checkpoint, current: note.Checkpoint) -> str:
    if current.size < previous.size:
        return f"the log shrank from {previous.size} to {current.size} entries"
    if current.size == previous.size:
        return "" if current.root == previous.root else f"two different roots for {current.size} entries"
    try:
        answer = json.loads(_get(f"{base}/ledger/proof/consistency?from={previous.size}&to={current.size}"))
        proof = [base64.b64decode(h, validate=True) for h in answer["consistency_path"]]
    except (WitnessError, ValueError, KeyError, TypeError):
        return "the registry gave no usable consistency proof"
    if not merkle.verify_consistency(previous.size, current.size, previous.root, current.root, proof):
        return f"no consistency proof joins the {previous.size}-entry checkpoint to the {current.size}-entry one"
    return ""
