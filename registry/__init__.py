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
from werkzeug.middleware.proxy_fix import ProxyFix

from registry import clock, logs, resilience
from registry import http as registry_http
from registry.config import DefaultConfig, fill_paths, from_environment, is_production
from registry.errors import register_error_handlers
from registry.extensions import babel, csrf, db, limiter, login_manager, migrate
from registry.i18n import html_lang, select_locale
from registry.i18n_compile import ensure_compiled
from registry.resources import resource
from registry.schemes import all_schemes
from registry.settings_check import check_production

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
    "registry.messaging.views",
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
    "registry.complaints.holidays",
    "registry.procurement.cli",
    "registry.messaging.cli",
)

def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: defaults, instance config.py, environment, then the test mapping."""
    # The instance folder (instance config.py, the SQLite file, signing key, uploads) is fixed by INSTANCE_PATH
    # or Flask's rule (the checkout's instance/, or <prefix>/var/registry-instance for an installed package),
    # never the directory a command runs in. Tests pass their own, so they never touch the real one.
    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH") or None
    app = Flask(__name__, template_folder=str(resource("templates")), static_folder=str(resource("static")),
                instance_relative_config=True, instance_path=instance_path)
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(from_environment())
    if test_config:
        app.config.update(test_config)
    fill_paths(app.config, app.instance_path)
    logs.init_app(app)
    if is_production(app.config):
        check_production(app.config)
    registry_http.init_app(app)  # bounded <int:> converter and JSON limits, before any route registers

    # Scheme files are validated now, so a malformed one stops start-up naming the file.
    all_schemes()

    os.makedirs(app.instance_path, exist_ok=True)
    _compile_catalogs(app)
    _configure_database(app)
    db.init_app(app)
    resilience.install_connect_breaker(app)
    # Batch mode lets SQLite apply ALTERs (it rebuilds tables); compare_type catches column type changes.
    migrate.init_app(app, db, directory=str(resource("migrations")), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    resilience.limiter_settings(app)
    limiter.init_app(app)
    resilience.init_app(app)
    trusted = int(app.config.get("TRUSTED_PROXIES") or 0)
    if trusted > 0:
        # The client address (rate limits, logs) and https come from the last N proxies' X-Forwarded-For/-Proto.
        # Not Host or Prefix: a proxy that passes a client's own X-Forwarded-Prefix through would let it change the
        # links of pages that are cached for everyone; absolute links use PUBLIC_BASE_URL anyway.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted, x_host=0, x_port=0, x_prefix=0)

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
    from registry.messaging import init_app as init_messaging
    init_messaging(app)
    from registry.worker import init_app as init_worker
    init_worker(app)

    register_error_handlers(app)
    _register_template_context(app)
    app.after_request(_security_headers)
    return app


def _compile_catalogs(app: Flask) -> None:
    """Compile messages.mo when missing or older than the .po files (a checkout installed without `make`)."""
    if app.config["BABEL_TRANSLATION_DIRECTORIES"] != DefaultConfig.BABEL_TRANSLATION_DIRECTORIES:
        return
    folders = ensure_compiled(resource("translations"), os.path.join(app.instance_path, "translations"))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(folders)


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
        if uri.startswith("postgresql"):
            options = resilience.engine_options(app, options)
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
