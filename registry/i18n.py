"""Locale choice: an explicit switch (remembered in a cookie) wins, then the browser's Accept-Language.

Chinese (zh_Hans) is the default. Message ids are English; each domain keeps its own catalog file
translations/zh_Hans/LC_MESSAGES/<domain>.po, merged into messages.mo by registry.i18n_compile.
"""
from __future__ import annotations

from flask import current_app, has_request_context, request

LANG_COOKIE = "lang"

# What browsers send, mapped onto the two catalogs we keep.
BROWSER_LANGUAGES = {"zh": "zh_Hans", "zh-cn": "zh_Hans", "zh-hans": "zh_Hans", "zh-sg": "zh_Hans",
                     "zh-tw": "zh_Hans", "zh-hk": "zh_Hans", "zh-hant": "zh_Hans", "en": "en"}


def normalise_locale(value: str | None) -> str | None:
    """Map a user-supplied language tag to a supported locale, or None."""
    if not value:
        return None
    tag = value.strip().lower().replace("_", "-")
    if tag in BROWSER_LANGUAGES:
        return BROWSER_LANGUAGES[tag]
    primary = tag.split("-", 1)[0]
    return BROWSER_LANGUAGES.get(primary)


def select_locale() -> str:
    """Flask-Babel's locale selector (CLI commands and jobs, with no request, use the default)."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    explicit = normalise_locale(request.args.get("lang")) or normalise_locale(request.cookies.get(LANG_COOKIE))
    if explicit:
        return explicit
    for tag, _quality in request.accept_languages:
        chosen = normalise_locale(tag)
        if chosen:
            return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang(locale: str) -> str:
    """The value for <html lang>: BCP 47, not Babel's underscore form."""
    return "zh-Hans" if locale.startswith("zh") else "en"
