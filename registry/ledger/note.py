"""C2SP signed-note and tlog-checkpoint text, Ed25519 (pure: no Flask, no database).

A checkpoint note is
    <origin>\\n<tree size>\\n<base64 root hash>\\n
    \\n
    — <key name> <base64(4-byte key id ‖ 64-byte signature)>\\n
The signature covers the body (the three lines with their newlines). The key id is the first four bytes of
SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ raw public key), 0x01 being the signed-note code for Ed25519.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = b"\x01"
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space
PROOF_HEADER = "c2sp.org/tlog-proof@v1"


class NoteInvalid(ValueError):
    """A note or checkpoint that does not parse or whose signature does not verify."""


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + ED25519 + _raw(public_key)).digest()[:4]


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The signed-note verifier key `<name>+<hex key id>+<base64(0x01 ‖ public key)>` to publish."""
    return f"{name}+{key_id(name, public_key).hex()}+{base64.b64encode(ED25519 + _raw(public_key)).decode()}"


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def sign_note(body: str, name: str, key: Ed25519PrivateKey) -> str:
    signature = key.sign(body.encode("utf-8"))
    value = base64.b64encode(key_id(name, key.public_key()) + signature).decode()
    return f"{body}\n{SIGNATURE_PREFIX}{name} {value}\n"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    text: str


def open_checkpoint(text: str, name: str, public_key: Ed25519PublicKey) -> Checkpoint:
    """Parse a checkpoint note and check that `name`'s key signed it.

    Raises:
        NoteInvalid: malformed text, no signature by this key, or a signature that does not verify.
    """
    body, separator, signatures = text.partition("\n\n")
    if not separator or not signatures.endswith("\n"):
        raise NoteInvalid("not a signed note")
    body += "\n"
    wanted = key_id(name, public_key)
    checked = False
    for line in signatures[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteInvalid("malformed signature line")
        signer, _, value = line[len(SIGNATURE_PREFIX):].rpartition(" ")
        try:
            raw = base64.b64decode(value, validate=True)
        except ValueError:
            raise NoteInvalid("malformed signature") from None
        if signer != name or raw[:4] != wanted or len(raw) != 68:
            continue  # someone else's (a witness's cosignature)
        try:
            public_key.verify(raw[4:], body.encode("utf-8"))
        except InvalidSignature:
            raise NoteInvalid("bad signature") from None
        checked = True
    if not checked:
        raise NoteInvalid("not signed by this key")
    lines = body[:-1].split("\n")
    if len(lines) < 3 or not lines[1].isdigit():
        raise NoteInvalid("not a checkpoint")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except ValueError:
        raise NoteInvalid("malformed root hash") from None
    if len(root) != 32:
        raise NoteInvalid("malformed root hash")
    return Checkpoint(origin=lines[0], size=int(lines[1]), root=root, text=text)


def tlog_proof(index: int, proof: list[bytes], checkpoint_text: str) -> str:
    """The C2SP tlog-proof text: header, `index N`, one base64 hash a line, a blank line, the checkpoint."""
    lines = [PROOF_HEADER, f"index {index}"] + [base64.b64encode(h).decode() for h in proof]
    return "\n".join(lines) + "\n\n" + checkpoint_text
