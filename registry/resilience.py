"""Degrade, don't fail: what the registry does when PostgreSQL or Redis is not answering.

- Database: connections and statements have timeouts (DATABASE_CONNECT_TIMEOUT, DATABASE_STATEMENT_TIMEOUT,
  DATABASE_POOL_TIMEOUT), and an unreachable database answers 503 with a clear page within seconds. Pages
  that need no database read (a cached /v/ page) keep answering.
- Rate limits: when Redis (RATELIMIT_STORAGE_URI) is unreachable, Flask-Limiter counts in this process's
  memory (logged once when it happens and once when Redis is back); /healthz shows `rate_limits`.
"""
from __future__ import annotations

import logging
import time

import click
from flask import Flask, current_app, jsonify, render_template
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from registry.errors import wants_json
from registry.extensions import db, limiter
from registry.procurement.receipts import KeyMissing

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30


def engine_options(app: Flask, options: dict) -> dict:
    """PostgreSQL connect and statement timeouts and the pool's wait, as engine options."""
    connect_args = dict(options.get("connect_args") or {})
    connect_args.setdefault("connect_timeout", max(1, int(app.config["DATABASE_CONNECT_TIMEOUT"])))
    # Commands (`flask registry init`, imports, rebuilds) may run long statements on purpose: their own setting.
    in_command = click.get_current_context(silent=True) is not None
    setting = "DATABASE_COMMAND_STATEMENT_TIMEOUT" if in_command else "DATABASE_STATEMENT_TIMEOUT"
    statement_ms = int(float(app.config[setting]) * 1000)
    if statement_ms > 0:
        # Keep libpq options already given in the URL (?options=-csearch_path%3D...) or connect_args.
        given = connect_args.get("options") or make_url(app.config["SQLALCHEMY_DATABASE_URI"]).query.get("options")
        extra = f"-c statement_timeout={statement_ms}"
        connect_args["options"] = f"{given} {extra}" if given else extra
    options["connect_args"] = connect_args
    options.setdefault("pool_timeout", float(app.config["DATABASE_POOL_TIMEOUT"]))
    return options


class ConnectBreaker:
    """After a failed connection, fail new ones at once for DATABASE_RETRY_SECONDS instead of waiting the connect
    timeout again: one request in that window pays the timeout, the others get their 503 immediately."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.down_until = 0.0
        self.reason = ""

    def connect(self, dialect, _record, cargs, cparams):
        if self.seconds > 0 and time.monotonic() < self.down_until:
            raise dialect.loaded_dbapi.OperationalError(f"database unreachable a moment ago ({self.reason}); "
                                                        "not retrying yet")
        try:
            connection = dialect.connect(*cargs, **cparams)
        except Exception as error:
            self.down_until = time.monotonic() + self.seconds
            self.reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise
        self.down_until = 0.0
        return connection


def install_connect_breaker(app: Flask) -> None:
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            breaker = ConnectBreaker(float(app.config["DATABASE_RETRY_SECONDS"]))
            event.listen(db.engine, "do_connect", breaker.connect)


def limiter_settings(app: Flask) -> None:
    """Short Redis timeouts, so a dead Redis costs a second once (then the in-memory fallback answers)."""
    uri = str(app.config.get("RATELIMIT_STORAGE_URI") or "")
    if uri.startswith(("redis://", "rediss://", "redis+")):
        timeout = float(app.config["RATELIMIT_STORAGE_TIMEOUT"])
        options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        options.setdefault("socket_connect_timeout", timeout)
        options.setdefault("socket_timeout", timeout)
        app.config["RATELIMIT_STORAGE_OPTIONS"] = options


def rate_limit_health() -> dict:
    """What /healthz shows about rate limits: where they are counted, and whether that store answers."""
    config = current_app.config
    uri = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    storage = uri.split("://", 1)[0]
    if not config.get("RATELIMIT_ENABLED", True):
        return {"status": "ok", "storage": storage, "enabled": False}
    if storage == "memory":
        return {"status": "ok", "storage": "memory"}
    try:
        reachable = bool(limiter.storage.check())
    except Exception:  # the health page reports, never raises
        reachable = False
    if reachable:
        return {"status": "ok", "storage": storage}
    return {"status": "degraded", "storage": storage,
            "notice": "rate limit storage unreachable: limits are counted in each process's memory"}


def init_app(app: Flask) -> None:
    app.extensions["registry.rate_limit_health"] = rate_limit_health

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.TimeoutError)
    def database_unavailable(error):
        try:
            db.session.rollback()
        except Exception:  # the connection is gone; the session is discarded at teardown anyway
            pass
        log.error("database unavailable: %s", str(getattr(error, "orig", None) or error).strip().splitlines()[0])
        message = _("The registry's database is not answering. Nothing was changed; please try again in a few minutes.")
        return _unavailable(message, "database_unavailable")

    @app.errorhandler(KeyMissing)
    def signing_key_missing(error):
        log.error("no receipt signing key at %s: run `flask keys generate` once and copy the file to every host", error)
        return _unavailable(_("Signed receipts are not available yet: the registry's signing key is not installed."),
                            "signing_key_missing")


def _unavailable(message: str, code: str):
    if wants_json():
        response = jsonify({"error": {"code": code, "message": message}})
    else:
        response = current_app.make_response(render_template("errors/generic.html", status=503, message=message,
                                                             fields={}))
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
