"""Home page, language switch and health check."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, make_response, redirect, render_template, request, url_for
from sqlalchemy import text

from registry.certificates import services as certificate_services
from registry.extensions import db
from registry.http import safe_next
from registry.i18n import LANG_COOKIE, normalise_locale

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    counts = certificate_services.public_counts()
    return render_template("main/home.html", counts=counts)


@bp.route("/lang/<code>")
def switch_language(code: str):
    """Remember the chosen language for a year, then go back to the page the user was on."""
    locale = normalise_locale(code)
    response = make_response(redirect(safe_next(request.args.get("next"), url_for("main.home"))))
    if locale:
        response.set_cookie(LANG_COOKIE, locale, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.route("/healthz")
def healthz():
    """Liveness for load balancers and the operator: database reachable, search state."""
    checks: dict[str, object] = {}
    healthy = True
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # report, never raise: this is the page that says what is wrong
        checks["database"] = f"error: {type(error).__name__}"
        healthy = False
    health_of_search = current_app.extensions.get("registry.search_health")
    if health_of_search is not None:
        checks["search"] = health_of_search()
    # Complaint deadlines need next year's holidays from 1 November: warn until the operator enters them.
    from registry import clock
    from registry.complaints.calendar import next_year_warning
    try:
        missing_year = next_year_warning(clock.today())
        checks["holidays"] = ({"status": "warning", "unknown_year": missing_year,
                               "action": "flask holidays load FILE"} if missing_year else {"status": "ok"})
    except Exception as error:  # the database check above reports an unreachable database
        checks["holidays"] = {"status": f"error: {type(error).__name__}"}
    rate_limits = current_app.extensions.get("registry.rate_limit_health")
    if rate_limits is not None:
        checks["rate_limits"] = rate_limits()
    # Further checks registered by their packages (messages, worker heartbeat), each {"status": ...}.
    for name, check in current_app.extensions.get("registry.health", {}).items():
        checks[name] = check()
    # A degraded part (search on the database fallback, rate limits in memory, a late worker) still serves
    # every page: say so, but stay 200.
    degraded = any(isinstance(check, dict) and check.get("status") == "degraded" for check in checks.values())
    status = "ok" if healthy and not degraded else "degraded"
    return jsonify(status=status, checks=checks), (200 if healthy else 503)


@bp.route("/policy")
def policy():
    """The lifecycle policy in force: knobs and their values, level thresholds per scheme, what each status means."""
    from registry.presenters import all_status_views
    from registry.schemes import all_schemes
    config = current_app.config
    knobs = {
        "max_suspension_months": config["MAX_SUSPENSION_MONTHS"],
        "surveillance_interval_months": config["SURVEILLANCE_INTERVAL_MONTHS"],
        "surveillance_grace_days": config["SURVEILLANCE_GRACE_DAYS"],
        "stars_require_year": config["STARS_REQUIRE_YEAR_AT_COMPLIANT"],
    }
    return render_template("main/policy.html", knobs=knobs, schemes=all_schemes().values(), statuses=all_status_views())
