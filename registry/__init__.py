"""The registry's Flask application factory."""
from __future__ import annotations

import functools
import importlib
import json
import os

from flask import Flask, abort, request
from flask_babel import get_locale
from sqlalchemy import event
from sqlalchemy.engine import Engine

from registry import clock
from registry import http as registry_http
from registry.config import DefaultConfig, from_environment
from registry.errors import register_error_handlers
from registry.extensions import babel, csrf, db, limiter, login_manager, migrate
from registry.i18n import html_lang, select_locale
from registry.schemes import all_schemes

# Each domain's views module defines `bp`; its cli module (if any) defines `cli`, a click group.
BLUEPRINT_MODULES = (
    "registry.main.views",
    "registry.certificates.views",
    "registry.certificates.verify_views",
    "registry.accounts.views",
    "registry.office.views",
    "registry.ledger.views",
    "registry.search.views",
    "registry.complaints.views",
    "registry.procurement.views",
    "registry.api",
)
CLI_MODULES = (
    "registry.main.cli",
    "registry.certificates.cli",
    "registry.demo.cli",
    "registry.accounts.cli",
    "registry.ledger.cli",
    "registry.search.cli",
    "registry.complaints.cli",
    "registry.procurement.cli",
)

PRODUCTION_KEY_PLACEHOLDER = DefaultConfig.SECRET_KEY


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: defaults, instance config.py, environment, then the test mapping."""
    # Tests pass their own instance folder, so they never read or write the real one (instance/config.py,
    # the database, the verify-cache stamp).
    instance_path = (test_config or {}).get("INSTANCE_PATH")
    app = Flask(__name__, template_folder="../templates", static_folder="../static",
                instance_relative_config=True, instance_path=instance_path)
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(from_environment())
    if test_config:
        app.config.update(test_config)
    _check_production_settings(app)
    registry_http.init_app(app)  # bounded <int:> converter and JSON limits, before any route registers

    # Scheme files are validated now, so a malformed one stops start-up naming the file.
    all_schemes()

    os.makedirs(app.instance_path, exist_ok=True)
    _configure_database(app)
    db.init_app(app)
    # Batch mode lets SQLite apply ALTERs (it rebuilds tables); compare_type catches column type changes.
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    limiter.init_app(app)

    import registry.accounts  # noqa: F401  (registers the user loader)
    import registry.models  # noqa: F401  (every table, before anything builds or compares the schema)

    for module_name in BLUEPRINT_MODULES:
        app.register_blueprint(importlib.import_module(module_name).bp)
    for module_name in CLI_MODULES:
        module = importlib.import_module(module_name)
        if getattr(module, "cli", None) is not None:
            app.cli.add_command(module.cli)

    from registry.search import init_app as init_search
    init_search(app)

    register_error_handlers(app)
    _register_template_context(app)
    app.after_request(_security_headers)
    return app


def _check_production_settings(app: Flask) -> None:
    if os.environ.get("REGISTRY_ENV") == "production" and app.config["SECRET_KEY"] == PRODUCTION_KEY_PLACEHOLDER:
        raise RuntimeError("SECRET_KEY must be set in production (REGISTRY_ENV=production)")


def _configure_database(app: Flask) -> None:
    uri: str = app.config["SQLALCHEMY_DATABASE_URI"]
    # Copied, so one app's options never leak into the next (the default is a class attribute).
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # JSON columns hold Chinese text (former names, sites): store real UTF-8, not \uXXXX escapes, so SQL
    # (the search fallback's LIKE, an operator's psql) sees the characters.
    options.setdefault("json_serializer", functools.partial(json.dumps, ensure_ascii=False))
    if uri.startswith("sqlite"):
        # Several requests may wait on SQLite's single writer; wait instead of failing at once.
        options["connect_args"] = {**options.get("connect_args", {}), "timeout": 30}
    else:
        options.setdefault("pool_pre_ping", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """WAL for concurrent readers, foreign keys enforced (SQLite leaves them off by default)."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _register_template_context(app: Flask) -> None:
    from registry import presenters

    # A global (not a context variable) so imported macros can use it too.
    app.jinja_env.globals["p"] = presenters

    @app.context_processor
    def inject_globals():
        locale = str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])
        return {
            "locale": locale,
            "html_lang": html_lang(locale),
            "demo_mode": app.config["DEMO_MODE"],
            "registry_name": app.config["REGISTRY_NAME"],
            "today": clock.today(),
        }

    @app.before_request
    def refuse_nul_bytes():
        # PostgreSQL cannot store NUL in text; no honest input contains one. Refuse it for every route.
        values = [*request.args.values(), *request.view_args.values()] if request.view_args else list(request.args.values())
        if request.form:
            values += list(request.form.values())
        if any("\x00" in str(v) for v in values):
            abort(400)


def _security_headers(response):
    # No external CDN or font is used anywhere, so 'self' is enough; inline styles only for the QR SVG.
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response
