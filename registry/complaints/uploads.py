"""Attachments: the type is read from the content (magic bytes, then Pillow or the PDF header), never
from the file name; files are stored under UPLOAD_DIR with a random name and served by a checked view."""
from __future__ import annotations

import hashlib
import io
import os
import secrets
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

ALLOWED = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp", "application/pdf": "pdf"}
PILLOW_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


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


def check(name: str, data: bytes, max_bytes: int) -> CheckedFile:
    """Accept an image Pillow can decode or a PDF with a PDF header and trailer; refuse anything else."""
    clean_name = os.path.basename((name or "").replace("\\", "/"))[:200] or "file"
    if not data:
        raise UploadRefused("empty", clean_name)
    if len(data) > max_bytes:
        raise UploadRefused("size", clean_name)
    kind = sniff(data)
    if kind is None:
        raise UploadRefused("type", clean_name)
    if kind == "application/pdf":
        if b"%%EOF" not in data[-2048:]:
            raise UploadRefused("type", clean_name)
        return CheckedFile(clean_name, kind, data)
    try:
        with Image.open(io.BytesIO(data)) as image:
            found = PILLOW_FORMATS.get(image.format or "")
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise UploadRefused("type", clean_name) from None
    if found != kind:
        raise UploadRefused("type", clean_name)
    return CheckedFile(clean_name, kind, data)


def store(upload_dir: str, complaint_id: int, checked: CheckedFile) -> str:
    """Write the file under a random name; returns the stored name (relative to upload_dir)."""
    folder = os.path.join(upload_dir, "complaints", str(complaint_id))
    os.makedirs(folder, exist_ok=True)
    stored = f"{complaint_id}/{secrets.token_hex(16)}.{ALLOWED[checked.content_type]}"
    with open(os.path.join(upload_dir, "complaints", stored), "wb") as handle:
        handle.write(checked.data)
    return stored


def path_of(upload_dir: str, stored_name: str) -> str:
    return os.path.join(upload_dir, "complaints", stored_name)
