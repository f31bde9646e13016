"""Request hygiene shared by every route: bounded integer URL parts, one safe-next rule, bounded JSON bodies.

A penetration sweep found that hostile but well-formed requests reached code that could not cope with them
(ids beyond the database's integer range, JSON nested a thousand deep, a newline in a redirect target).
Each of those is stopped here, once, before any view runs: the answer is a calm 400/404/413/415, never a 500.
"""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, request
from flask.wrappers import Request
from werkzeug.exceptions import BadRequest, NotFound, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

# The smallest integer column any id lives in: PostgreSQL's INTEGER (SQLite's is wider). An id beyond it
# cannot exist, so such a URL names nothing: 404, without asking the database (which would overflow).
MAX_ID = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` limited to 0 … 2**31-1: a larger number names nothing, so it is a 404 at once, without
    asking the database (SQLite overflows past 2**63, PostgreSQL's INTEGER past 2**31) and without trying
    other routes (a POST-only route of the same shape would answer 405)."""

    def __init__(self, map, fixed_digits=0, min=0, max=MAX_ID, signed=False):  # noqa: A002 (werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=False)

    def to_python(self, value: str) -> int:
        if len(value) > len(str(self.max)) or int(value) > self.max:
            raise NotFound()
        return super().to_python(value)


def is_safe_path(target: str | None) -> bool:
    """True for a same-site absolute path: no scheme or host, no //, no backslash, no control or format
    character (a newline would split the Location header; a bidi override would disguise it)."""
    if not target or len(target) > 2000 or "\\" in target:
        return False
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in target):
        return False
    if not target.startswith("/") or target.startswith("//"):
        return False
    parts = urlsplit(target)
    return not (parts.scheme or parts.netloc)


def safe_next(target: str | None, default: str) -> str:
    """`target` if it is a safe same-site path, else `default`: every redirect taken from user input goes
    through here (the login's ?next=, the language switch), so an open redirect is fixed in one place."""
    return target if is_safe_path(target) else default


# Text no honest client sends and the stores cannot hold: NUL (PostgreSQL text refuses it) and lone UTF-16
# surrogates (JSON's "\ud800" escape parses, but the text cannot be encoded as UTF-8 again).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def json_depth(value) -> int:
    """How deeply lists and objects nest in a parsed JSON value (iterative: a deep value cannot overflow it)."""
    return _walk(value)[0]


def _walk(value) -> tuple[int, bool]:
    """(nesting depth, whether any key or string holds unstorable text), in one iterative pass."""
    deepest, unstorable, stack = 0, False, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            unstorable = unstorable or any(_UNSTORABLE.search(k) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str) and not unstorable:
            unstorable = _UNSTORABLE.search(item) is not None
    return deepest, unstorable


class RegistryRequest(Request):
    """Flask's request with JSON bodies bounded in size (413) and nesting depth, and without NUL or unpaired
surrogates in any string (400, as malformed JSON).

    Python's parser raises RecursionError (not ValueError) on deep nesting, which Flask lets escape even
    with silent=True; here it is one more kind of malformed body.
    """

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        if not (force or self.is_json):
            return super().get_json(force=force, silent=silent, cache=cache)
        limit = current_app.config["JSON_MAX_BYTES"]
        if (self.content_length or 0) > limit or len(self.get_data(cache=True)) > limit:
            raise RequestEntityTooLarge()
        try:
            # Not cached by the parent: a cached value would skip the depth check on the next call.
            value = super().get_json(force=force, silent=silent, cache=False)
        except RecursionError:
            value, refused = None, True
        else:
            depth, unstorable = _walk(value)
            refused = unstorable or depth > current_app.config["JSON_MAX_DEPTH"]
        if refused:
            if silent:
                return None
            raise BadRequest("JSON nested too deeply, or holding NUL or unpaired surrogates.")
        return value


def _refuse_json_outside_api():
    """Forms are form-encoded. Flask-WTF would read a JSON body as form data and choke on a list or a nested
    object; nothing outside /api/ takes JSON, so such a body is refused before any form sees it."""
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.is_json and not request.path.startswith("/api/"):
        abort(415)


def _private_pages_are_not_stored(response):
    """A page opened with a private token (a complaint's tracking link) or by a signed-in user is for that
    person alone: no shared cache and no browser history cache may keep it."""
    from flask_login import current_user
    private = "token" in request.args or (request.endpoint != "static" and current_user
                                          and current_user.is_authenticated)
    # A page a signed-in user sees carries their name in the header and a CSRF token: never "public",
    # even on pages anonymous visitors may cache (/v/<number>).
    if private and "no-store" not in response.headers.get("Cache-Control", ""):
        response.headers["Cache-Control"] = "private, no-store"
    return response


def _strict_transport_security(response):
    seconds = current_app.config["HSTS_SECONDS"]
    if seconds:
        response.headers.setdefault("Strict-Transport-Security", f"max-age={int(seconds)}; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    """Install the converter (before any blueprint registers its rules), the request class and the checks."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.request_class = RegistryRequest
    app.before_request(_refuse_json_outside_api)
    app.after_request(_private_pages_are_not_stored)
    app.after_request(_strict_transport_security)
    from registry.accounts.audit import register as register_staff_audit
    from registry.complaints.uploads import register_cleanup
    register_cleanup()  # uploaded files of a transaction that rolls back are deleted
    register_staff_audit()  # every signed-in write request's commit records who did it
