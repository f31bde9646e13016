"""Reports of suspected fake or misused marks, filed from the verification pages.

A report is a case with a public case number (shown once to the reporter) that moderators list. The
optional photo is stored outside static/ under UPLOAD_DIR and served only to moderators and admins. We
keep no name, phone or IP address of the reporter: nothing is needed to act on a fake mark.
"""
from __future__ import annotations

import datetime as dt
import enum
import io
import os
import secrets
import uuid

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import DateTime, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from registry import clock
from registry.certificates.identifiers import fold
from registry.errors import NotFound, ValidationError
from registry.extensions import db

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000
# Detected from the content by Pillow, never from the file name or the browser's claim.
PHOTO_TYPES = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp"),
               "GIF": ("gif", "image/gif")}
_CASE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone


class ReportReason(enum.StrEnum):
    NOT_FOUND = "not_found"      # the number is not in the registry
    MISMATCH = "mismatch"        # the QR's check code does not match
    LEVEL = "level"              # the printed level is not the certificate's level
    NOT_VALID = "not_valid"      # the mark is in use while the certificate is not valid
    OTHER = "other"


class FakeMarkReport(db.Model):
    __tablename__ = "fake_mark_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(String(20), unique=True)
    reason: Mapped[str] = mapped_column(String(20), index=True)
    certificate_number: Mapped[str] = mapped_column(String(60), default="", index=True)  # as seen, folded
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"), index=True)
    where_seen: Mapped[str] = mapped_column(String(200))
    seller: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    photo_file: Mapped[str | None] = mapped_column(String(80))
    photo_type: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=clock.utcnow, index=True)


def new_case_number(today: dt.date) -> str:
    """FM-yymmdd-XXXXX: dated for people, random so case numbers cannot be enumerated."""
    suffix = "".join(secrets.choice(_CASE_ALPHABET) for _ in range(5))
    return f"FM-{today:%y%m%d}-{suffix}"


def upload_dir() -> str:
    configured = current_app.config.get("UPLOAD_DIR") or os.path.join(current_app.instance_path, "uploads")
    return os.path.join(configured, "fake_marks")


def check_photo(data: bytes) -> tuple[str, str]:
    """(extension, mime type) of an acceptable photo, or ValidationError saying what is wrong."""
    from PIL import Image, UnidentifiedImageError
    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationError(_("The photo is larger than 5 MB."), fields={"photo": _("Choose a photo of at most 5 MB.")})
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        kind = None
    if kind not in PHOTO_TYPES or width * height > MAX_PHOTO_PIXELS:
        raise ValidationError(_("The photo could not be read as a JPEG, PNG, WebP or GIF image."),
                              fields={"photo": _("Choose a JPEG, PNG, WebP or GIF photo.")})
    return PHOTO_TYPES[kind]


def file_fake_mark_report(*, reason: str, certificate_number: str, where_seen: str, seller: str = "",
                          description: str = "", photo: bytes | None = None) -> FakeMarkReport:
    """Record a suspected fake mark as a case; the photo (if any) is checked and stored outside static/.

    Raises:
        ValidationError: where_seen missing, a field too long, or a photo that is not an image / too large.
    """
    where_seen, seller, description = (where_seen or "").strip(), (seller or "").strip(), (description or "").strip()
    if not where_seen:
        raise ValidationError(_("Say where you saw the mark."), fields={"where_seen": _("This field is required.")})
    for name, value, limit in (("where_seen", where_seen, 200), ("seller", seller, 200), ("description", description, 2000)):
        if len(value) > limit:
            raise ValidationError(_("Some of what you entered is too long."),
                                  fields={name: _("At most %(n)s characters.", n=limit)})
    if reason not in {r.value for r in ReportReason}:
        reason = ReportReason.OTHER.value
    number = fold(certificate_number or "")[:60]
    from registry.certificates.services import find_certificate
    certificate = find_certificate(number) if number else None
    photo_file = photo_type = None
    if photo:
        extension, photo_type = check_photo(photo)
        photo_file = f"{uuid.uuid4().hex}.{extension}"
    case_number = new_case_number(clock.today())
    while db.session.scalar(select(FakeMarkReport.id).where(FakeMarkReport.case_number == case_number)) is not None:
        case_number = new_case_number(clock.today())
    report = FakeMarkReport(case_number=case_number, reason=reason, certificate_number=number,
                            certificate_id=certificate.id if certificate is not None else None,
                            where_seen=where_seen, seller=seller, description=description,
                            photo_file=photo_file, photo_type=photo_type)
    db.session.add(report)
    db.session.flush()
    if photo_file:
        # Written once the row exists; deleted again if the transaction does not commit.
        from registry.complaints.uploads import write_new_file
        os.makedirs(upload_dir(), exist_ok=True)
        write_new_file(os.path.join(upload_dir(), photo_file), photo)
    return report


def list_fake_mark_reports(page: int, per_page: int = 50):
    """Newest first, for moderators (the view checks the role)."""
    query = select(FakeMarkReport).order_by(FakeMarkReport.created_at.desc(), FakeMarkReport.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def report_photo(case_number: str) -> tuple[str, str]:
    """(path, mime type) of a report's photo.

    Raises:
        NotFound: no such case, or it has no photo, or the file is gone.
    """
    report = db.session.scalar(select(FakeMarkReport).where(FakeMarkReport.case_number == case_number))
    if report is None or not report.photo_file:
        raise NotFound()
    path = os.path.join(upload_dir(), report.photo_file)
    if not os.path.isfile(path):
        raise NotFound()
    return path, report.photo_type or "application/octet-stream"
