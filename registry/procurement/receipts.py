"""Signed verification receipts: canonical JSON signed with the registry's Ed25519 key.

A receipt is one JSON document {"receipt": {...}, "signature": {...}}. The signature covers the canonical
serialisation of "receipt" (sorted keys, no spaces, UTF-8), so anyone with the public key can check it
with any JSON library and any Ed25519 implementation. The file we hand out is itself canonical, so
changing any one character of it makes the check fail (see tests/procurement/test_receipts.py).

The key id is the SHA-256 fingerprint of the raw 32-byte public key, in hex.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

log = logging.getLogger(__name__)

ALGORITHM = "Ed25519"
RECEIPT_VERSION = 1
SIGNATURE_PATTERN = re.compile(r"[0-9a-f]{128}")
KEY_ID_PREFIX = "sha256:"


class KeyExists(Exception):
    """A key file is already there; refusing to overwrite it silently."""


class KeyMissing(FileNotFoundError):
    """No signing key at the path, and it may not be created here (production: provisioned once, shared)."""


class ReceiptInvalid(Exception):
    """A receipt that does not verify; `reason` is a stable code the page turns into words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def canonical_json(value) -> bytes:
    """The exact bytes that are signed: sorted keys, no whitespace, UTF-8 (not ASCII-escaped)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, hex: the key id printed in the README and on every receipt."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KEY_ID_PREFIX + hashlib.sha256(raw).hexdigest()


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def _private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def write_new_key(path: str | os.PathLike, overwrite: bool = False) -> Ed25519PrivateKey:
    """Create a new private key file (mode 0600) atomically; never replaces one unless asked.

    Raises:
        KeyExists: a key is already at `path` and overwrite is False.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".signing-key-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(_private_pem(key))
        os.chmod(tmp, 0o600)
        if overwrite:
            os.replace(tmp, path)
        else:
            # link() fails if the target exists: two workers starting at once end up with one key.
            try:
                os.link(tmp, path)
            except FileExistsError as error:
                raise KeyExists(str(path)) from error
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return key


def load_private_key(path: str | os.PathLike) -> Ed25519PrivateKey:
    data = Path(path).read_bytes()
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


_cache: dict[str, tuple[float, Ed25519PrivateKey]] = {}


def signing_key(path: str | os.PathLike, create: bool = True) -> Ed25519PrivateKey:
    """The registry's key from `path`, created on first use if missing and `create` (logged with its fingerprint).

    Raises:
        KeyMissing: no key at `path` and create is False (production: every host must sign with the same key).
    """
    path = str(path)
    try:
        mtime = os.stat(path).st_mtime
    except FileNotFoundError:
        if not create:
            raise KeyMissing(path) from None
        try:
            key = write_new_key(path)
            log.warning("created a new receipt signing key at %s, fingerprint %s", path, fingerprint(key.public_key()))
        except KeyExists:
            pass
        mtime = os.stat(path).st_mtime
    cached = _cache.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    key = load_private_key(path)
    _cache[path] = (mtime, key)
    return key


def sign(body: dict, key: Ed25519PrivateKey) -> dict:
    """Wrap `body` into a signed receipt document."""
    signature = key.sign(canonical_json(body))
    return {"receipt": body,
            "signature": {"algorithm": ALGORITHM, "key_id": fingerprint(key.public_key()), "value": signature.hex()}}


def dumps(document: dict) -> str:
    """The receipt file's text: canonical, so every character of it is covered by the check."""
    return canonical_json(document).decode("utf-8")


@dataclass(frozen=True)
class CheckedReceipt:
    body: dict
    key_id: str


def verify_text(text: str, public_key: Ed25519PublicKey) -> CheckedReceipt:
    """Parse and check a receipt against our public key.

    Raises:
        ReceiptInvalid: reason is one of not_json, not_a_receipt, other_key, bad_signature.
    """
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        raise ReceiptInvalid("not_json") from error
    if not isinstance(document, dict) or set(document) != {"receipt", "signature"}:
        raise ReceiptInvalid("not_a_receipt")
    body, signature = document["receipt"], document["signature"]
    if not isinstance(body, dict) or not isinstance(signature, dict) \
            or set(signature) != {"algorithm", "key_id", "value"} or signature["algorithm"] != ALGORITHM:
        raise ReceiptInvalid("not_a_receipt")
    value = signature["value"]
    if not isinstance(value, str) or not SIGNATURE_PATTERN.fullmatch(value):
        raise ReceiptInvalid("bad_signature")
    if signature["key_id"] != fingerprint(public_key):
        raise ReceiptInvalid("other_key")
    try:
        public_key.verify(bytes.fromhex(value), canonical_json(body))
    except (InvalidSignature, ValueError) as error:
        raise ReceiptInvalid("bad_signature") from error
    return CheckedReceipt(body=body, key_id=signature["key_id"])


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")
