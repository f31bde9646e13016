"""Atom (RFC 4287) feeds of certificate status and level changes, built from ledger entries.

Entry ids are tag URIs made from the ledger sequence number, so a feed reader never shows one event
twice, and each entry links to the certificate's public page.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from flask import current_app
from flask_babel import gettext as _

from registry import presenters
from registry.ledger.models import LedgerEntry

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml; charset=utf-8"


@dataclass(frozen=True)
class FeedInfo:
    title: str
    path: str          # the feed's own path, e.g. /feeds/changes.atom
    alternate: str     # a page for people, e.g. /certificates


def _base() -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/")


def _tag(suffix: str) -> str:
    host = urlsplit(_base()).hostname or "localhost"
    return f"tag:{host},2026:{suffix}"


def _timestamp(entry: LedgerEntry) -> str:
    # recorded_at is naive UTC (see clock.utcnow); Atom wants RFC 3339 with an offset.
    return entry.recorded_at.replace(tzinfo=dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def entry_title(entry: LedgerEntry) -> str:
    words = presenters.ledger_kind_name(entry.kind)
    if entry.level_after and entry.kind == "level_changed":
        words += " → " + presenters.level_name(entry.scheme_id, entry.level_after)
    return f"{entry.certificate_number}: {words}"


def entry_summary(entry: LedgerEntry) -> str:
    parts = [_("Effective on %(day)s.", day=entry.effective_on.isoformat())]
    if entry.status_after:
        parts.append(_("Status afterwards: %(status)s.", status=presenters.status_view(entry.status_after).word))
    if entry.level_after:
        parts.append(_("Level afterwards: %(level)s.", level=presenters.level_name(entry.scheme_id, entry.level_after)))
    text = presenters.ledger_text(entry)
    if text:
        parts.append(text)
    parts.append(_("Ledger entry %(seq)s, hash %(hash)s.", seq=entry.seq, hash=entry.hash))
    return " ".join(parts)


def render_feed(info: FeedInfo, entries: list[LedgerEntry]) -> bytes:
    """An Atom document: feed id/title/updated/author/links, one entry per ledger entry (newest first)."""
    ET.register_namespace("", ATOM_NS)

    def sub(parent, tag, text=None, **attrs):
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    base = _base()
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", _tag(info.path.lstrip("/")))
    sub(feed, "title", info.title)
    updated = _timestamp(entries[0]) if entries else "2026-01-01T00:00:00Z"
    sub(feed, "updated", updated)
    author = sub(feed, "author")
    sub(author, "name", current_app.config["CERTIFICATION_BODY_NAME"])
    sub(feed, "link", rel="self", href=base + info.path, type="application/atom+xml")
    sub(feed, "link", rel="alternate", href=base + info.alternate, type="text/html")
    sub(feed, "generator", current_app.config["REGISTRY_NAME"])
    for entry in entries:
        item = sub(feed, "entry")
        sub(item, "id", _tag(f"ledger-entry-{entry.seq}"))
        sub(item, "title", entry_title(entry))
        sub(item, "updated", _timestamp(entry))
        sub(item, "link", rel="alternate", href=f"{base}/certificates/{entry.certificate_number}", type="text/html")
        sub(item, "category", term=entry.kind, label=presenters.ledger_kind_name(entry.kind))
        sub(item, "summary", entry_summary(entry))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
