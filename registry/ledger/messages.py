"""Language-neutral public texts of ledger entries: a message id and its parameters, rendered on read.

A writer passes `LedgerMessage(N_("Suspended until %(day)s."), day=until)`. The entry stores, in its hashed
`data`, `{"message": {"id": …, "params": …}}`, and as its hashed `public_text` the message rendered in the
registry's legal language (zh-Hans), whatever language the actor's screen was in. Pages call `entry_text`,
which renders the same id and parameters in the reader's language. Entries written before message ids
existed have no "message" and show their stored text.

The message id is the gettext msgid, so the usual catalogs translate it. Parameters are plain values
(text, numbers, dates), or values that are themselves translated on read: another `LedgerMessage`,
a `Level` (rendered as the level's name in the reader's language) or `Words` (a list joined the way
the reader's language joins lists).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app, has_app_context
from flask_babel import force_locale, get_locale, gettext

LEGAL_LOCALE = "zh_Hans"   # the language of the registry's permanent record (GB/T 27922 certificates are Chinese)


def N_(message_id: str) -> str:
    """Mark a message id for extraction (it is translated when an entry is rendered, not here)."""
    return message_id


@dataclass(frozen=True)
class Level:
    """A level parameter: rendered as the level's name in the reader's language (四星 / Four stars)."""
    scheme_id: str
    level_id: str


@dataclass(frozen=True)
class Words:
    """A list parameter of translated items (LedgerMessage or text), joined with the reader's separator."""
    items: tuple


class LedgerMessage:
    """A message id (gettext msgid with %(name)s placeholders) and its parameters."""

    __slots__ = ("id", "params")

    def __init__(self, message_id: str, /, **params):
        self.id = message_id
        self.params = params

    def __repr__(self) -> str:
        return f"LedgerMessage({self.id!r}, {self.params!r})"

    def encode(self) -> dict:
        """The JSON form stored in an entry's data (and so covered by its hash)."""
        return {"id": self.id, "params": {name: _encode(value) for name, value in sorted(self.params.items())}}

    def render(self, locale: str | None = None) -> str:
        """The text in `locale` (default: the current request's language)."""
        return render(self.encode(), locale)


def _encode(value):
    if isinstance(value, LedgerMessage):
        return {"msg": value.encode()}
    if isinstance(value, Level):
        return {"level": [value.scheme_id, value.level_id]}
    if isinstance(value, Words):
        return {"list": [_encode(item) for item in value.items]}
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def legal_locale() -> str:
    """The language of the hashed public text (configurable as LEDGER_LOCALE; zh-Hans by default)."""
    if has_app_context():
        return str(current_app.config.get("LEDGER_LOCALE", LEGAL_LOCALE))
    return LEGAL_LOCALE


def _decode(value):
    if isinstance(value, dict):
        if "msg" in value:
            return _render_here(value["msg"])
        if "level" in value:
            from registry.presenters import level_name
            scheme_id, level_id = value["level"]
            return level_name(scheme_id, level_id)
        if "list" in value:
            separator = "、" if str(get_locale() or "").startswith("zh") else ", "
            return separator.join(str(_decode(item)) for item in value["list"])
    return value


def _render_here(encoded: dict) -> str:
    params = {name: _decode(value) for name, value in (encoded.get("params") or {}).items()}
    try:
        return gettext(encoded["id"], **params)
    except (KeyError, ValueError, TypeError):  # a translation that lost a placeholder: fall back to the id
        return encoded["id"] % params if params else encoded["id"]


def render(encoded: dict, locale: str | None = None) -> str:
    """Render a stored message in `locale` (default: the current language)."""
    if locale is None:
        return _render_here(encoded)
    with force_locale(locale):
        return _render_here(encoded)


def legal_text(message: LedgerMessage | str | None) -> str:
    """What is hashed as public text (or reason): the message in the legal language; plain text as given."""
    if message is None:
        return ""
    if isinstance(message, LedgerMessage):
        return message.render(legal_locale())
    return message


def entry_text(entry) -> str:
    """An entry's public text in the reader's language (stored text for entries without a message id)."""
    encoded = (entry.data or {}).get("message") if isinstance(entry.data, dict) else None
    if encoded and encoded.get("id"):
        return render(encoded)
    return entry.public_text or ""


def entry_reason(entry) -> str:
    """An entry's reason: as the actor wrote it, or the registry's own reason in the reader's language."""
    encoded = (entry.data or {}).get("reason_message") if isinstance(entry.data, dict) else None
    if encoded and encoded.get("id"):
        return render(encoded)
    return entry.reason or ""


def msgid(lazy_text) -> str:
    """The message id of a lazy_gettext string (the source language is English, which has no catalog)."""
    with force_locale("en"):
        return str(lazy_text)
