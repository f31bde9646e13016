"""Start-up checks of production settings (REGISTRY_ENV=production): refuse to run unsafe, saying why.

Every problem is listed at once, so an operator fixes the environment file in one pass.
"""
from __future__ import annotations

import ipaddress
import logging
import os
from urllib.parse import urlsplit

from registry.config import DefaultConfig

log = logging.getLogger(__name__)
MIN_SECRET_LENGTH = 32
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class UnsafeSettings(RuntimeError):
    """Production settings that must be fixed before the registry starts."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("refusing to start in production (REGISTRY_ENV=production):\n"
                         + "\n".join(f"  - {problem}" for problem in problems))


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _secret_problems(config) -> list[str]:
    problems = []
    secret, qr_secret = config.get("SECRET_KEY") or "", config.get("QR_SECRET") or ""
    if not secret or secret == DefaultConfig.SECRET_KEY:
        problems.append("SECRET_KEY must be set (a random value of at least 32 characters: "
                        "python3 -c 'import secrets; print(secrets.token_urlsafe(48))')")
    elif len(secret) < MIN_SECRET_LENGTH:
        problems.append(f"SECRET_KEY is {len(secret)} characters; use at least {MIN_SECRET_LENGTH}")
    if not qr_secret:
        problems.append("QR_SECRET must be set (at least 32 characters, different from SECRET_KEY; set it once: "
                        "printed QR codes carry its check code)")
    elif len(qr_secret) < MIN_SECRET_LENGTH:
        problems.append(f"QR_SECRET is {len(qr_secret)} characters; use at least {MIN_SECRET_LENGTH}")
    elif qr_secret == secret:
        problems.append("QR_SECRET must differ from SECRET_KEY (rotating the session key must not void printed QR codes)")
    return problems


def _base_url_problems(config) -> list[str]:
    url = config.get("PUBLIC_BASE_URL") or ""
    if not url or url == DefaultConfig.PUBLIC_BASE_URL:
        return ["PUBLIC_BASE_URL must be set to the public origin, e.g. https://registry.example (QR codes, feeds "
                "and receipts print it)"]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"PUBLIC_BASE_URL must be an absolute http(s) URL, not {url!r}"]
    if parts.scheme != "https" and not is_loopback(parts.hostname):
        return [f"PUBLIC_BASE_URL must use https (only a loopback address may use http), not {url!r}"]
    return []


def _database_problems(config) -> list[str]:
    uri = config.get("SQLALCHEMY_DATABASE_URI") or ""
    if config.get("REGISTRY_DATABASE_DEFAULTED"):
        return ["DATABASE_URL must be set (postgresql://user:password@host/dbname); production never creates a "
                "SQLite file by itself"]
    if uri.startswith("sqlite"):
        path = uri.split("///", 1)[-1]
        if path in ("", ":memory:") or not os.path.exists(path):
            return [f"DATABASE_URL points at a SQLite file that does not exist ({path or 'in memory'})"]
    return []


def production_problems(config) -> list[str]:
    """What makes these settings unsafe for production (empty when they are fine)."""
    try:
        trusted = int(config.get("TRUSTED_PROXIES") or 0)
        proxy_problems = [] if trusted >= 0 else ["TRUSTED_PROXIES must be 0 or more"]
    except (TypeError, ValueError):
        proxy_problems = ["TRUSTED_PROXIES must be a whole number"]
    return [*_secret_problems(config), *_base_url_problems(config), *_database_problems(config), *proxy_problems]


def check_production(config) -> None:
    """Raise UnsafeSettings if any problem; warn about what is allowed but unwise.

    Raises:
        UnsafeSettings: the settings list.
    """
    problems = production_problems(config)
    if problems:
        raise UnsafeSettings(problems)
    if str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory"):
        log.warning("RATELIMIT_STORAGE_URI is memory://: each worker counts limits on its own; use redis://")
    if not os.path.exists(config["SIGNING_KEY_PATH"]):
        # Not refused at start-up (`flask keys generate` needs the app); receipts answer 503 until it exists.
        log.warning("no receipt signing key at %s: receipts answer 503 until `flask keys generate` has made it "
                    "(once, on one host) and the file is copied to every host", config["SIGNING_KEY_PATH"])
