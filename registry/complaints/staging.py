"""Attachments kept across a validation error on the filing form.

A browser cannot re-fill a file field, so files that passed the content check are kept server-side
(UPLOAD_DIR/staging, random names, outside static/) and bound to the consumer's session for
STAGING_SECONDS. The form shows them as "attached: photo.jpg (remove)"; a successful filing takes them,
and anything older is deleted the next time staging is touched.
"""
from __future__ import annotations

import os
import secrets
import time

from flask import current_app, session

from registry.complaints import uploads

SESSION_KEY = "staged_attachments"
STAGING_SECONDS = 3600


def _folder() -> str:
    folder = os.path.join(current_app.config["UPLOAD_DIR"], "staging")
    os.makedirs(folder, exist_ok=True)
    return folder


def _sweep() -> None:
    """Delete staged files older than STAGING_SECONDS (whoever staged them)."""
    folder = _folder()
    cutoff = time.time() - STAGING_SECONDS
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        try:
            if os.path.getmtime(path) < cutoff:
                os.remove(path)
        except OSError:
            pass


def staged() -> list[dict]:
    """This session's staged files that still exist: [{"id", "name"}]."""
    folder = _folder()
    now = time.time()
    return [item for item in session.get(SESSION_KEY, [])
            if now - item.get("at", 0) < STAGING_SECONDS and os.path.exists(os.path.join(folder, item["id"]))]


def stage(checked: list[uploads.CheckedFile], limit: int) -> None:
    """Keep these checked files for this session (up to `limit` in all)."""
    _sweep()
    items = staged()
    for file in checked:
        if len(items) >= limit:
            break
        stored = secrets.token_hex(16) + "." + uploads.ALLOWED[file.content_type]
        with open(os.path.join(_folder(), stored), "wb") as handle:
            handle.write(file.data)
        items.append({"id": stored, "name": file.original_name, "at": time.time()})
    session[SESSION_KEY] = items


def remove(ids) -> None:
    """Drop the staged files the consumer chose to remove."""
    ids = set(ids or [])
    keep = []
    for item in staged():
        if item["id"] in ids:
            _delete(item["id"])
        else:
            keep.append(item)
    session[SESSION_KEY] = keep


def take() -> list[uploads.CheckedFile]:
    """The staged files, checked again, for the filing that is being stored (they stay until `clear`)."""
    files = []
    max_bytes = int(current_app.config["COMPLAINT_ATTACHMENT_MAX_BYTES"])
    for item in staged():
        try:
            with open(os.path.join(_folder(), item["id"]), "rb") as handle:
                files.append(uploads.check(item["name"], handle.read(), max_bytes))
        except (OSError, uploads.UploadRefused):
            continue
    return files


def clear() -> None:
    """After a stored filing: delete this session's staged files."""
    for item in session.pop(SESSION_KEY, []):
        _delete(item["id"])


def _delete(stored: str) -> None:
    if os.path.basename(stored) != stored:
        return
    try:
        os.remove(os.path.join(_folder(), stored))
    except OSError:
        pass
