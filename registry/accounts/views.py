"""Login, logout, the account page (open sessions, sign out everywhere), password change, the staff log."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, logout_user
from sqlalchemy import select

from registry.accounts import audit, services, sessions, signin
from registry.accounts.decorators import role_required
from registry.accounts.forms import LoginForm, LogoutForm, PasswordChangeForm
from registry.accounts.models import Role, StaffAuditEntry
from registry.errors import ValidationError
from registry.extensions import db, limiter
from registry.http import safe_next
from registry.paging import page_arg

bp = Blueprint("accounts", __name__)


def _ip_and_email() -> str:
    """Limit guesses per address *and* per account, so one IP cannot spread guesses over many accounts cheaply."""
    return f"{get_remote_address()}|{(request.form.get('email') or '').strip().lower()[:254]}"


def _landing_for(user) -> str:
    """Each role's own home: a company its certificates, a moderator the queue, officers and admins the office
    dashboard (surveillance due, proposals to decide)."""
    if user.has_role(Role.MODERATOR):
        return url_for("complaints.queue")
    if user.has_role(Role.ADMIN, Role.OFFICER):
        return url_for("office.dashboard")
    if user.has_role(Role.COMPANY):
        return url_for("certificates.ours")
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=_ip_and_email, methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_IP_RATE_LIMIT"], methods=["POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    error, status, headers = None, 200, {}
    if form.validate_on_submit():
        outcome = signin.attempt(form.email.data, form.password.data)
        db.session.commit()  # the sign-in log entry, the new session row, a re-hash with newer parameters
        if outcome.user is not None:
            return redirect(safe_next(form.next.data, _landing_for(outcome.user)))
        if outcome.wait_seconds:
            error = _("Too many failed attempts for this account. Please wait %(n)s seconds and try again.",
                      n=outcome.wait_seconds)
            status, headers = 429, {"Retry-After": str(outcome.wait_seconds)}
        else:
            # The same words whether the address is unknown, the account disabled or the password wrong.
            error, status = _("The e-mail address or the password is not right."), 401
    elif request.method == "POST":
        status = 422
    return render_template("accounts/login.html", form=form, error=error), status, headers


@bp.route("/logout", methods=["POST"])
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            audit.record(db.session, "sign_out", user=current_user._get_current_object())
            sessions.end_current()
            db.session.commit()
        logout_user()
        flash(_("You are signed out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/account")
@login_required
def account():
    return render_template("accounts/account.html", open_sessions=sessions.sessions_of(current_user),
                           form=LogoutForm())


@bp.route("/account/sessions/end", methods=["POST"])
@login_required
def end_all_sessions():
    """Sign out everywhere: every browser of this account, this one included (a lost phone, a shared PC)."""
    form = LogoutForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        ended = sessions.end_all(user)
        audit.record(db.session, "sign_out_everywhere", user=user, detail={"sessions": ended})
        db.session.commit()
        logout_user()
        flash(_("You are signed out everywhere (%(n)s sessions ended).", n=ended), "info")
        return redirect(url_for("accounts.login"))
    return redirect(url_for("accounts.account"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, current=form.current.data, new=form.new.data)
        except ValidationError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
            return render_template("accounts/password.html", form=form), 422
        db.session.commit()
        flash(_("Your password is changed. Every other browser signed in to this account is signed out."), "info")
        return redirect(_landing_for(current_user))
    return render_template("accounts/password.html", form=form), (422 if form.errors else 200)


STAFF_LOG_ACTIONS = ("sign_in", "sign_in_failed", "sign_in_delayed", "sign_in_notice", "sign_out",
                     "sign_out_everywhere")


@bp.route("/office/staff-log")
@role_required(Role.ADMIN)
def staff_log():
    """The staff audit log, newest first; filter by e-mail (exact) and action (exact, or "actions" for
    everything that is not a sign-in event)."""
    email = (request.args.get("email") or "").strip().lower()[:254]
    action = (request.args.get("action") or "").strip()[:80]
    query = select(StaffAuditEntry).order_by(StaffAuditEntry.at.desc(), StaffAuditEntry.id.desc())
    if email:
        query = query.where(StaffAuditEntry.email == email)
    if action == "actions":
        query = query.where(StaffAuditEntry.action.not_in(STAFF_LOG_ACTIONS))
    elif action:
        query = query.where(StaffAuditEntry.action == action)
    page = db.paginate(query, page=page_arg(), per_page=50, error_out=False)
    return render_template("accounts/staff_log.html", page=page, email=email, action=action,
                           actions=STAFF_LOG_ACTIONS)
