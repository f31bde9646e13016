"""Login, logout, password change."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from registry.accounts import services
from registry.accounts.forms import LoginForm, LogoutForm, PasswordChangeForm
from registry.accounts.models import Role
from registry.errors import ValidationError
from registry.extensions import db, limiter

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
    error = None
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            db.session.commit()  # a re-hash with newer parameters, if any
            return redirect(services.safe_next(form.next.data, _landing_for(user)))
        # The same words whether the address is unknown, the account disabled or the password wrong.
        error = _("The e-mail address or the password is not right.")
    status = 200 if request.method == "GET" else (401 if error else 422)
    return render_template("accounts/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        logout_user()
        flash(_("You are signed out."), "info")
    return redirect(url_for("main.home"))


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
        flash(_("Your password is changed."), "info")
        return redirect(_landing_for(current_user))
    return render_template("accounts/password.html", form=form), (422 if form.errors else 200)
