"""The JSON API under /api/v1: read-only public data plus bulk verification, described by /api/v1/openapi.json.

No cookies or sessions are used, so CSRF does not apply (POST /verify only reads). GET answers carry
read-only CORS headers; every route is rate-limited (429 with Retry-After).
"""
from __future__ import annotations

from flask import Blueprint, current_app, request

from registry.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.after_request
def read_only_cors(response):
    # Anyone may read the public register from a browser; nothing cross-origin may write.
    if request.method in ("GET", "HEAD", "OPTIONS"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Expose-Headers"] = "Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining"
        response.headers["Access-Control-Max-Age"] = "86400"
    response.headers.setdefault("Cache-Control", "no-store" if request.method == "POST" else "public, max-age=60")
    return response


def api_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def verify_limit() -> str:
    return current_app.config["API_VERIFY_RATE_LIMIT"]


from registry.api import certificates, openapi  # noqa: E402,F401  (routes register on bp)
