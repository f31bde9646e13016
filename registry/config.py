"""Defaults for every setting; each can be overridden by an environment variable of the same name.

Names are documented in the README. Production is recognised by REGISTRY_ENV=production only (explicit, so a
forgotten DEBUG flag never decides it); there create_app refuses unsafe settings (registry.settings_check).
Paths default to the instance folder (INSTANCE_PATH), never to the directory a command runs in.
"""
from __future__ import annotations

import os
from pathlib import Path

from registry.resources import CHECKOUT_DIR, resource, resource_root

PROJECT_ROOT = CHECKOUT_DIR
PRODUCTION = "production"


class DefaultConfig:
    # "production" turns on the start-up checks (secrets, public URL, database, signing key); anything else
    # is a development, demo or test set-up.
    REGISTRY_ENV = "development"
    # A fixed development key; create_app refuses it when REGISTRY_ENV=production.
    SECRET_KEY = "dev-only-not-secret"
    # None: a SQLite file in the instance folder (refused in production, where DATABASE_URL must be set).
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # PostgreSQL: seconds to wait for a connection, for a statement (0: no limit) and for a free pooled
    # connection. An unreachable database then answers 503 within seconds instead of hanging every worker.
    DATABASE_CONNECT_TIMEOUT = 5
    DATABASE_STATEMENT_TIMEOUT = 30
    # The same for `flask` commands (migrations, imports, index rebuilds, the worker): 0, no limit.
    DATABASE_COMMAND_STATEMENT_TIMEOUT = 0
    DATABASE_POOL_TIMEOUT = 10
    # After a failed connection, new ones fail at once for this many seconds (a fast 503, no pile-up of waits).
    DATABASE_RETRY_SECONDS = 5
    # None: search_index/ in a checkout, <instance>/search_index for an installed package.
    SEARCH_INDEX_DIR: str | None = None
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
    BABEL_TRANSLATION_DIRECTORIES = str(resource("translations"))
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
    # Redis unreachable: count in this process's memory instead (logged once), never answer 500.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    # Seconds to wait for Redis before falling back.
    RATELIMIT_STORAGE_TIMEOUT = 1.0
    # Sign-in attempts per address and e-mail, and per address; fake-mark reports per address.
    LOGIN_RATE_LIMIT = "10/minute"
    LOGIN_IP_RATE_LIMIT = "30/minute"
    REPORT_RATE_LIMIT = "3 per minute;20 per day"
    # Behind N reverse proxies, trust the last N X-Forwarded-* hops (client address, https): 0 trusts none.
    TRUSTED_PROXIES = 0
    # Log lines: "json" (one JSON object a line: time, level, request id, ...) or "text" (the same fields
    # as key=value); LOG_LEVEL as in Python's logging.
    LOG_FORMAT = "json"
    LOG_LEVEL = "INFO"

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

    # Procurement and open data: the Ed25519 key that signs verification receipts and the rate limits of the
    # API and bulk page. Outside production a missing key is created on first use; in production it must be
    # provisioned (`flask keys generate` once, then the same file copied to every host). None: in the instance folder.
    SIGNING_KEY_PATH: str | None = None
    API_RATE_LIMIT = "300 per minute"
    API_VERIFY_RATE_LIMIT = "30 per minute"
    BULK_RATE_LIMIT = "30 per minute"
    # Files consumers and companies upload (complaint attachments, fake-mark photos), never under static/.
    # None: <instance>/uploads.
    UPLOAD_DIR: str | None = None
    # Category ids offered on the filing form, in order (names come from the translations).
    COMPLAINT_CATEGORIES = ("delivery", "installation", "repair", "warranty_returns", "product_information",
                            "complaint_handling", "service_attitude", "recycling", "other")
    # Deadlines in PRC working days (DOMAIN.md §7).
    COMPLAINT_DECIDE_WORKDAYS = 7
    COMPLAINT_RESPOND_WORKDAYS = 10
    COMPLAINT_MEDIATION_WORKDAYS = 45
    COMPLAINT_FILING_RATE_LIMIT = "5 per hour;20 per day"            # stored filings per mobile number
    COMPLAINT_FILING_CLIENT_RATE_LIMIT = "30 per hour;200 per day"   # per client address (shared behind NAT)
    COMPLAINT_LINK_RESEND_RATE_LIMIT = "3 per hour;10 per day"       # private-link resends per mobile and client
    COMPLAINT_CONSUMER_CHOICE_WORKDAYS = 5   # the consumer's time to accept or dispute before a moderator closes
    COMPLAINT_MAX_ATTACHMENTS = 5
    COMPLAINT_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
    # Years after closing before `flask complaints purge` erases the consumer's personal data.
    COMPLAINT_RETENTION_YEARS = 3
    # "console" prints outgoing SMS/e-mail; tests use "memory"; "gateway" sends e-mail over SMTP (MAIL_*) and
    # SMS to SMS_GATEWAY_URL. None: console, or memory when TESTING. See docs/operations.md.
    MESSAGE_BACKEND: str | None = None
    # The published sanction rules; None means registry/complaints/sanction_rules.toml.
    SANCTION_RULES_PATH: str | None = None
    # Working days a company has to answer a sanction proposal before an officer may decide.
    SANCTION_RESPONSE_WORKDAYS = 5
    # The same for a critical proposal (shorter, never zero), and the body's time to decide an appeal.
    SANCTION_CRITICAL_RESPONSE_WORKDAYS = 2
    SANCTION_APPEAL_DECIDE_WORKDAYS = 10

    # Hardening (docs/security.md). JSON bodies: size in bytes (413 beyond) and nesting depth (400 beyond).
    JSON_MAX_BYTES = 256 * 1024
    JSON_MAX_DEPTH = 20
    # Strict-Transport-Security max-age in seconds; 0 sends no header (set it once the site is HTTPS only).
    HSTS_SECONDS = 0
    WATCH_RATE_LIMIT = "10 per hour;30 per day"
    # Sign-in limits per account across all addresses. Past LOGIN_ACCOUNT_FREE_FAILURES
    # failures in LOGIN_FAILURE_WINDOW_SECONDS an account waits 2, 4, 8 … up to LOGIN_MAX_DELAY_SECONDS
    # between attempts (slowed, never locked out), and its owner is told by e-mail once per window.
    # (The per-address limits are LOGIN_RATE_LIMIT, per address and e-mail, and LOGIN_IP_RATE_LIMIT, above.)
    LOGIN_ACCOUNT_FREE_FAILURES = 5
    LOGIN_FAILURE_WINDOW_SECONDS = 3600
    LOGIN_MAX_DELAY_SECONDS = 900


# Settings read from the environment whose type cannot be read off their default (None). Every other
# setting of DefaultConfig with a str, int, float or bool default is read too, parsed as that type.
ENVIRONMENT_SETTINGS: dict[str, type] = {
    "DATABASE_URL": str,
    "SEARCH_INDEX_DIR": str,
    "QR_SECRET": str,
    "UPLOAD_DIR": str,
    "REGISTRY_TODAY": str,
    "SIGNING_KEY_PATH": str,
    "MESSAGE_BACKEND": str,
    "SANCTION_RULES_PATH": str,
    "COMPLAINT_FILING_RATE_LIMIT": str,
    # The worker, the outbox cursors and outgoing messages (defaults in registry/worker, search, messaging).
    "WORKER_NAME": str,
    "WORKER_INTERVAL": float,
    "WORKER_TICK_AT": str,
    "WORKER_BACKOFF_MAX": float,
    "WORKER_HEARTBEAT_MAX_AGE": float,
    "SEARCH_OUTBOX_GAP_SECONDS": float,
    "SEARCH_OUTBOX_RETENTION_DAYS": float,
    "SEARCH_OUTBOX_MAX_AGE": float,
    "MESSAGE_DELIVERY": str,
    "MESSAGE_MAX_ATTEMPTS": int,
    "MESSAGE_RETRY_BASE_SECONDS": float,
    "MESSAGE_RETRY_MAX_SECONDS": float,
    "MESSAGE_MAX_AGE": float,
    "MESSAGE_RETENTION_DAYS": float,
    "MAIL_SERVER": str,
    "MAIL_PORT": int,
    "MAIL_USE_TLS": bool,
    "MAIL_USE_SSL": bool,
    "MAIL_USERNAME": str,
    "MAIL_PASSWORD": str,
    "MAIL_DEFAULT_SENDER": str,
    "MAIL_TIMEOUT": int,
    "SMS_GATEWAY_URL": str,
    "SMS_GATEWAY_KEY": str,
    "SMS_GATEWAY_TIMEOUT": float,
    "COMPLAINT_FILING_CLIENT_RATE_LIMIT": str,
    "COMPLAINT_LINK_RESEND_RATE_LIMIT": str,
    "HSTS_SECONDS": int,
    "WATCH_RATE_LIMIT": str,
    "LOGIN_ACCOUNT_FREE_FAILURES": int,
    "LOGIN_MAX_DELAY_SECONDS": int,
}
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class SettingError(ValueError):
    """A setting from the environment that cannot be parsed; the message names it."""


def environment_settings() -> dict[str, type]:
    """Every setting the environment may set, with the type its text is parsed as."""
    found: dict[str, type] = {}
    for name in dir(DefaultConfig):
        if name.isupper():
            default = getattr(DefaultConfig, name)
            if isinstance(default, bool | int | float | str):
                found[name] = type(default)
    found.update(ENVIRONMENT_SETTINGS)
    return found


def _parse(name: str, raw: str, kind: type):
    text = raw.strip()
    if kind is bool:
        if text.lower() in TRUE_WORDS:
            return True
        if text.lower() in FALSE_WORDS:
            return False
        raise SettingError(f"{name} must be 1/0, true/false, yes/no or on/off, not {raw!r}")
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            raise SettingError(f"{name} must be a {'whole ' if kind is int else ''}number, not {raw!r}") from None
    return raw


def from_environment(environ: os._Environ | dict | None = None) -> dict:
    """Settings present in the environment, parsed; DATABASE_URL maps to SQLALCHEMY_DATABASE_URI.

    Raises:
        SettingError: a value cannot be parsed as its setting's type.
    """
    environ = os.environ if environ is None else environ
    found: dict = {}
    for name, kind in environment_settings().items():
        if name not in environ:
            continue
        found["SQLALCHEMY_DATABASE_URI" if name == "DATABASE_URL" else name] = _parse(name, environ[name], kind)
    uri = found.get("SQLALCHEMY_DATABASE_URI") or ""
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver named.
    if uri.startswith(("postgres://", "postgresql://")):
        found["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri.split("://", 1)[1]
    return found


def fill_paths(config, instance_path: str) -> None:
    """Give the path settings left unset their place in the instance folder (the checkout's search_index/ in a
    checkout, where it always was)."""
    instance = Path(instance_path)
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'registry.db'}"
        config["REGISTRY_DATABASE_DEFAULTED"] = True
    if not config.get("SEARCH_INDEX_DIR"):
        checkout = resource_root() == CHECKOUT_DIR
        config["SEARCH_INDEX_DIR"] = str(CHECKOUT_DIR / "search_index" if checkout else instance / "search_index")
    if not config.get("SIGNING_KEY_PATH"):
        config["SIGNING_KEY_PATH"] = str(instance / "signing-key.pem")
    if not config.get("UPLOAD_DIR"):
        config["UPLOAD_DIR"] = str(instance / "uploads")


def is_production(config) -> bool:
    return str(config.get("REGISTRY_ENV") or "").strip().lower() == PRODUCTION
