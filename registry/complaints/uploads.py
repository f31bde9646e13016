"""Attachments: the type is read from the content (magic bytes, then Pillow or the PDF header), never
from the file name; files are stored under UPLOAD_DIR with a random name and served by a checked view.

The name the sender gave is kept only for display and download, cleaned once here (clean_name) before
anything stores it. A file is written only inside a transaction that also writes its row; if that
transaction rolls back, the file is deleted again (write_new_file), so no file outlives a failed insert
where the retention purge, which works from the rows, would never find it.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import secrets
import unicodedata
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

ALLOWED = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp", "application/pdf": "pdf"}
PILLOW_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
# The same cap as fake-mark photos: a phone photo has 12-50 megapixels; more is a decompression bomb.
MAX_IMAGE_PIXELS = 40_000_000
MAX_NAME_LENGTH = 120
# Session.info key: files written in the session's current transaction, deleted if it does not commit.
_PENDING = "registry.new_upload_files"


class UploadRefused(ValueError):
    """Why a file was refused: 'type', 'size' or 'empty'."""

    def __init__(self, kind: str, name: str):
        super().__init__(f"{kind}: {name}")
        self.kind, self.name = kind, name


@dataclass(frozen=True)
class CheckedFile:
    original_name: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def sniff(data: bytes) -> str | None:
    """The content type by magic bytes, or None if it is not one we accept."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def clean_name(name: str | None) -> str:
    """A file name safe to store, show and send back: the last path part only, NFC, without control or
    format characters (NUL, newlines, bidi overrides that make "gpj.exe" read "exe.jpg", zero-width
    characters), trimmed of dots and spaces, at most MAX_NAME_LENGTH characters keeping the extension."""
    base = os.path.basename(unicodedata.normalize("NFC", name or "").replace("\\", "/"))
    kept = "".join(ch for ch in base if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
    kept = " ".join(kept.split()).strip(" .")
    if len(kept) > MAX_NAME_LENGTH:
        stem, extension = os.path.splitext(kept)
        extension = extension if len(extension) <= 10 else ""
        kept = stem[:MAX_NAME_LENGTH - len(extension)].rstrip(" .") + extension
    return kept or "file"


def check(name: str, data: bytes, max_bytes: int) -> CheckedFile:
    """Accept an image Pillow can decode (at most MAX_IMAGE_PIXELS) or a PDF with a PDF header and
    trailer; refuse anything else."""
    shown = clean_name(name)
    if not data:
        raise UploadRefused("empty", shown)
    if len(data) > max_bytes:
        raise UploadRefused("size", shown)
    kind = sniff(data)
    if kind is None:
        raise UploadRefused("type", shown)
    if kind == "application/pdf":
        if b"%%EOF" not in data[-2048:]:
            raise UploadRefused("type", shown)
        return CheckedFile(shown, kind, data)
    try:
        with Image.open(io.BytesIO(data)) as image:
            found = PILLOW_FORMATS.get(image.format or "")
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise UploadRefused("type", shown) from None
    if found != kind:
        raise UploadRefused("type", shown)
    if width * height > MAX_IMAGE_PIXELS:
        raise UploadRefused("size", shown)
    return CheckedFile(shown, kind, data)


def store(upload_dir: str, complaint_id: int, checked: CheckedFile) -> str:
    """Write the file under a random name; returns the stored name (relative to upload_dir)."""
    folder = os.path.join(upload_dir, "complaints", str(complaint_id))
    os.makedirs(folder, exist_ok=True)
    stored = f"{complaint_id}/{secrets.token_hex(16)}.{ALLOWED[checked.content_type]}"
    write_new_file(os.path.join(upload_dir, "complaints", stored), checked.data)
    return stored


def write_new_file(path: str, data: bytes) -> None:
    """Write an uploaded file that belongs to rows of the current transaction of db.session: if that
    transaction ends without a commit (a failed insert, any error, a validation rollback) the file is
    deleted, so the upload directory holds only files some row points at."""
    from registry.extensions import db
    with open(path, "xb") as handle:
        handle.write(data)
    db.session().info.setdefault(_PENDING, []).append(path)


def _forget_committed(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _delete_uncommitted(session: Session, transaction) -> None:
    if transaction.parent is not None:  # a savepoint: the outer transaction decides
        return
    for path in session.info.pop(_PENDING, ()):
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        except OSError:
            log.exception("could not delete the uncommitted upload %s", path)


def register_cleanup() -> None:
    """Hook the rollback clean-up on every session (called once by create_app's wiring; idempotent)."""
    if not event.contains(Session, "after_commit", _forget_committed):
        event.listen(Session, "after_commit", _forget_committed)
        event.listen(Session, "after_transaction_end", _delete_uncommitted)


def path_of(upload_dir: str, stored_name: str) -> str:
    return os.path.join(upload_dir, "complaints", stored_name)
