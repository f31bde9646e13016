"""Defaults for every setting; each can be overridden by an environment variable of the same name.

Names are documented in the README. Only SECRET_KEY has no safe default outside development.
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class DefaultConfig:
    # A fixed development key; create_app refuses it when REGISTRY_ENV=production.
    SECRET_KEY = "dev-only-not-secret"
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{PROJECT_ROOT / 'instance' / 'registry.db'}"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SEARCH_INDEX_DIR = str(PROJECT_ROOT / "search_index")
    # Who writes the search index: "inline" (one process, right after each commit) or "external"
    # (gunicorn: web workers never write; run one `flask search worker`). See docs/search.md.
    SEARCH_INDEXER = "inline"
    # Where QR codes and receipts point: printed codes live for years, so set the real host in production.
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    # Key for the check code in printed QR codes; unset: derived from SECRET_KEY. Set it once and keep it:
    # changing it (or SECRET_KEY while it is unset) makes every printed QR report a mismatch.
    QR_SECRET: str | None = None
    # How long a worker may reuse what /v/<number> showed when no change was signalled (see verify_cache.py); 0: off.
    VERIFY_CACHE_SECONDS = 60
    # The certification body this registry publishes for (shown on pages, receipts and certificates).
    REGISTRY_NAME = "售后服务认证证书公共登记平台"
    CERTIFICATION_BODY_NAME = "示例认证机构"
    CERTIFICATION_BODY_CODE = "CNCA-R-2026-999"
    # Demo sites say so on every page.
    DEMO_MODE = False
    # "Today" for every date rule; None means the real date in Asia/Shanghai. Tests and demos may pin it.
    REGISTRY_TODAY: str | None = None
    TIMEZONE = "Asia/Shanghai"

    BABEL_DEFAULT_LOCALE = "zh_Hans"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_ROOT / "translations")
    LANGUAGES = ("zh_Hans", "en")

    WTF_CSRF_TIME_LIMIT = None  # a consumer filling a complaint on a slow phone must not lose it
    MAX_CONTENT_LENGTH = 30 * 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # True in production (HTTPS); see README
    REMEMBER_COOKIE_HTTPONLY = True

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True

    CERTIFICATES_PER_PAGE = 20
    # Certificate numbers: {cb} body code digits, {yy} issue year, {serial} running number, {recert} count.
    # The level is never encoded: surveillance can change it while the number stays.
    CERTIFICATE_NUMBER_PATTERN = "{cb}{yy}SV{serial:05d}R{recert}"
    CERTIFICATE_NUMBER_CB = "999"

    # Lifecycle policy (DOMAIN.md §3); shown on /policy.
    MAX_SUSPENSION_MONTHS = 6
    SURVEILLANCE_INTERVAL_MONTHS = 12
    SURVEILLANCE_GRACE_DAYS = 0
    STARS_REQUIRE_YEAR_AT_COMPLIANT = False

    # Procurement and open data: the Ed25519 key that signs verification receipts (created on first use
    # if missing; `flask keys generate` makes it explicitly) and the rate limits of the API and bulk page.
    SIGNING_KEY_PATH = str(PROJECT_ROOT / "instance" / "signing-key.pem")
    API_RATE_LIMIT = "300 per minute"
    API_VERIFY_RATE_LIMIT = "30 per minute"
    BULK_RATE_LIMIT = "30 per minute"
    # Files consumers and companies upload (complaint attachments, fake-mark photos), never under static/.
    UPLOAD_DIR = str(PROJECT_ROOT / "instance" / "uploads")
    # Category ids offered on the filing form, in order (names come from the translations).
    COMPLAINT_CATEGORIES = ("delivery", "installation", "repair", "warranty_returns", "product_information",
                            "complaint_handling", "service_attitude", "recycling", "other")
    # Deadlines in PRC working days (DOMAIN.md §7).
    COMPLAINT_DECIDE_WORKDAYS = 7
    COMPLAINT_RESPOND_WORKDAYS = 10
    COMPLAINT_MEDIATION_WORKDAYS = 45
    COMPLAINT_FILING_RATE_LIMIT = "5 per hour;20 per day"
    COMPLAINT_MAX_ATTACHMENTS = 5
    COMPLAINT_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
    # Years after closing before `flask complaints purge` erases the consumer's personal data.
    COMPLAINT_RETENTION_YEARS = 3
    # "console" prints outgoing SMS/e-mail; tests use "memory". None: console, or memory when TESTING.
    MESSAGE_BACKEND: str | None = None
    # The published sanction rules; None means registry/complaints/sanction_rules.toml.
    SANCTION_RULES_PATH: str | None = None
    # Working days a company has to answer a sanction proposal before an officer may decide.
    SANCTION_RESPONSE_WORKDAYS = 5
    # The same for a critical proposal (shorter, never zero), and the body's time to decide an appeal.
    SANCTION_CRITICAL_RESPONSE_WORKDAYS = 2
    SANCTION_APPEAL_DECIDE_WORKDAYS = 10


# Settings read from the environment, with the type each is parsed as.
ENVIRONMENT_SETTINGS: dict[str, type] = {
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "SEARCH_INDEX_DIR": str,
    "SEARCH_INDEXER": str,
    "PUBLIC_BASE_URL": str,
    "QR_SECRET": str,
    "UPLOAD_DIR": str,
    "VERIFY_CACHE_SECONDS": int,
    "REGISTRY_NAME": str,
    "CERTIFICATION_BODY_NAME": str,
    "CERTIFICATION_BODY_CODE": str,
    "DEMO_MODE": bool,
    "REGISTRY_TODAY": str,
    "RATELIMIT_STORAGE_URI": str,
    "SESSION_COOKIE_SECURE": bool,
    "CERTIFICATE_NUMBER_PATTERN": str,
    "CERTIFICATE_NUMBER_CB": str,
    "MAX_SUSPENSION_MONTHS": int,
    "SURVEILLANCE_INTERVAL_MONTHS": int,
    "SURVEILLANCE_GRACE_DAYS": int,
    "STARS_REQUIRE_YEAR_AT_COMPLIANT": bool,
    "SIGNING_KEY_PATH": str,
    "MESSAGE_BACKEND": str,
    "SANCTION_RULES_PATH": str,
    "COMPLAINT_FILING_RATE_LIMIT": str,
}


def from_environment(environ: os._Environ | dict | None = None) -> dict:
    """Settings present in the environment, parsed; DATABASE_URL maps to SQLALCHEMY_DATABASE_URI."""
    environ = os.environ if environ is None else environ
    found: dict = {}
    for name, kind in ENVIRONMENT_SETTINGS.items():
        if name not in environ:
            continue
        raw = environ[name]
        if kind is bool:
            value = raw.strip().lower() in {"1", "true", "yes", "on"}
        elif kind is int:
            value = int(raw)
        else:
            value = raw
        found["SQLALCHEMY_DATABASE_URI" if name == "DATABASE_URL" else name] = value
    uri = found.get("SQLALCHEMY_DATABASE_URI", "")
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver named.
    if uri.startswith(("postgres://", "postgresql://")):
        found["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri.split("://", 1)[1]
    return found
