"""The exceptions services may raise, and the handlers that turn them (and HTTP errors) into pages or JSON.

Services raise only these; views and the API map them to a status. No input may produce a 500 page:
anything unexpected is logged, rolled back and answered with a calm page in the user's language.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from registry.extensions import db

log = logging.getLogger(__name__)


class RegistryError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str = "", fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFound(RegistryError):
    status = 404
    code = "not_found"


class PermissionDenied(RegistryError):
    status = 403
    code = "forbidden"


class ValidationError(RegistryError):
    status = 422
    code = "invalid"


class InvalidTransition(ValidationError):
    code = "invalid_transition"


class Gone(RegistryError):
    status = 410
    code = "gone"


class RateLimited(RegistryError):
    status = 429
    code = "rate_limited"


def wants_json() -> bool:
    """API paths and clients that ask only for JSON get JSON errors."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _render(status: int, code: str, message: str, fields: dict | None = None):
    if wants_json():
        body = {"error": {"code": code, "message": message}}
        if fields:
            body["error"]["fields"] = fields
        return jsonify(body), status
    template = f"errors/{status}.html" if status in (400, 403, 404, 410, 422, 429) else "errors/generic.html"
    return render_template(template, status=status, message=message, fields=fields or {}), status


HTTP_MESSAGES = {
    400: lambda: _("The request could not be understood. Please check what you entered."),
    403: lambda: _("You do not have permission to see this page."),
    404: lambda: _("This page does not exist in the registry."),
    405: lambda: _("This address does not accept that kind of request."),
    410: lambda: _("This is no longer available."),
    413: lambda: _("The upload is too large."),
    415: lambda: _("This address does not accept data in that format."),
    422: lambda: _("Some of what you entered is not valid."),
    429: lambda: _("Too many requests. Please wait a moment and try again."),
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(RegistryError)
    def handle_registry_error(error: RegistryError):
        db.session.rollback()
        return _render(error.status, error.code, error.message or HTTP_MESSAGES.get(error.status, str)(), error.fields)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        db.session.rollback()
        status = error.code or 500
        message_for = HTTP_MESSAGES.get(status)
        response = make_response(_render(status, error.name.lower().replace(" ", "_"),
                                         message_for() if message_for else error.description))
        if status == 429 and getattr(error, "retry_after", None):
            response.headers["Retry-After"] = str(error.retry_after)
        # RFC 9110: a 405 names the methods the address does accept (werkzeug puts them on the exception).
        for name, value in error.get_headers():
            if name.lower() == "allow":
                response.headers["Allow"] = value
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _render(500, "internal_error", _("Something went wrong on our side. Nothing was changed; please try again."))
