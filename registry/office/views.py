"""The certification body's back office: thin views over office.services and the lifecycle services.

Every URL here needs a staff account: anonymous visitors are sent to the login page, company accounts
get 403. Writing needs an officer or admin, checked by the decorator *and* again in the services.
Service errors (ValidationError, InvalidTransition) are shown on the page they came from, with 422.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from registry import clock
from registry.accounts.decorators import role_required
from registry.certificates import lifecycle
from registry.certificates.models import Audit
from registry.certificates.rules import AuditKind
from registry.errors import ValidationError
from registry.extensions import db, login_manager
from registry.ledger.models import LedgerEntry
from registry.office import forms, services
from registry.paging import page_arg
from registry.schemes import all_schemes, get_scheme

bp = Blueprint("office", __name__, url_prefix="/office")
deciders = role_required("admin", "officer")


@bp.before_request
def staff_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    services.require_staff(current_user)
    return None


@bp.app_context_processor
def office_helpers():
    return {"can_decide": services.can_decide}




def _apply_errors(form, error: ValidationError) -> None:
    """Put the service's field messages on the form's fields; the rest become form-level errors."""
    form.form_errors.append(error.message)
    for name, message in (error.fields or {}).items():
        field = form._fields.get(name) if hasattr(form, "_fields") else None
        if field is not None:
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
        elif message:
            form.form_errors.append(message)


# --- dashboard and lists ---------------------------------------------------------------------------

@bp.route("")
def dashboard():
    from registry.certificates.company_home import open_proposals
    return render_template("office/dashboard.html", board=services.dashboard(current_user),
                           proposals=open_proposals())


@bp.route("/companies")
def companies():
    query = request.args.get("q", "")[:200]
    return render_template("office/companies.html", pagination=services.search_companies(current_user, query, page_arg()),
                           query=query)


@bp.route("/certificates")
def certificates():
    query = request.args.get("q", "")[:200]
    return render_template("office/certificates.html",
                           pagination=services.search_certificates(current_user, query, page_arg()), query=query)


# --- companies -------------------------------------------------------------------------------------

@bp.route("/companies/new", methods=["GET", "POST"])
@deciders
def new_company():
    form = forms.CompanyForm()
    if form.validate_on_submit():
        try:
            company = services.create_company(current_user, **form.values())
        except ValidationError as error:
            db.session.rollback()
            _apply_errors(form, error)
        else:
            db.session.commit()
            flash(_("Company %(name)s registered.", name=company.name), "info")
            return redirect(url_for(".company", company_id=company.id))
    return render_template("office/company_form.html", form=form, company=None), (422 if form.errors or form.form_errors else 200)


@bp.route("/companies/<int:company_id>")
def company(company_id: int):
    company = services.get_company(current_user, company_id)
    audits = db.session.scalars(select(Audit).where(Audit.company_id == company.id)
                                .order_by(Audit.audited_on.desc(), Audit.id.desc())).all()
    return render_template("office/company.html", company=company, audits=audits, schemes=all_schemes())


@bp.route("/companies/<int:company_id>/edit", methods=["GET", "POST"])
@deciders
def edit_company(company_id: int):
    company = services.get_company(current_user, company_id)
    form = forms.CompanyForm(obj=company if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            changes = services.update_company(current_user, company, reason=form.reason.data, **form.values())
        except ValidationError as error:
            db.session.rollback()
            _apply_errors(form, error)
        else:
            db.session.commit()
            flash(_("Saved: %(n)s public details changed.", n=len(changes)), "info")
            return redirect(url_for(".company", company_id=company.id))
    return render_template("office/company_form.html", form=form, company=company), (422 if form.errors or form.form_errors else 200)


# --- audits ----------------------------------------------------------------------------------------

def _audit_page(*, scheme, kind: AuditKind, company, certificate=None, save):
    """Shared by every kind of audit: shape-check, score (preview), and save only a result the officer saw."""
    form = forms.audit_form_class(scheme)()
    result, status = None, 200
    if request.method == "GET":
        form.audited_on.data = clock.today()
        form.apply_raise.data = kind is not AuditKind.SPECIAL
    elif form.validate_on_submit():
        data = form.to_input(scheme)
        try:
            result = services.preview_audit(current_user, scheme, data, certificate)
            seen = f"{result.score}|{result.level.id if result.level else '-'}"
            if form.save.data and form.confirmed_score.data == seen:
                return save(form, data)
            if form.save.data:
                form.form_errors.append(_("The entries changed since the result was computed: check the result below and save again."))
            form.confirmed_score.data = seen
        except ValidationError as error:
            db.session.rollback()
            _apply_errors(form, error)
            status = 422
    else:
        status = 422
    return render_template("office/audit_form.html", form=form, scheme=scheme, kind=kind, company=company,
                           certificate=certificate, result=result, schemes=all_schemes()), status


@bp.route("/companies/<int:company_id>/audits/new", methods=["GET", "POST"])
@deciders
def new_initial_audit(company_id: int):
    company = services.get_company(current_user, company_id)
    scheme = get_scheme(request.args.get("scheme", "gbt27922-2011")) or next(iter(all_schemes().values()))

    def save(form, data):
        audit = services.record_initial_audit(current_user, company, scheme.id, data)
        db.session.commit()
        flash(_("Initial audit recorded."), "info")
        return redirect(url_for(".audit", audit_id=audit.id))

    return _audit_page(scheme=scheme, kind=AuditKind.INITIAL, company=company, save=save)


@bp.route("/audits/<int:audit_id>")
def audit(audit_id: int):
    audit = services.get_audit(current_user, audit_id)
    form = forms.IssueForm()
    return render_template("office/audit.html", audit=audit, scheme=get_scheme(audit.scheme_id), form=form,
                           stars_policy=current_app.config["STARS_REQUIRE_YEAR_AT_COMPLIANT"])


@bp.route("/audits/<int:audit_id>/issue", methods=["POST"])
@deciders
def issue(audit_id: int):
    audit = services.get_audit(current_user, audit_id)
    form = forms.IssueForm()
    if form.validate_on_submit():
        try:
            certificate = services.issue_certificate(
                current_user, audit, scope=form.scope.data, service_sites=form.service_sites.data,
                reason=form.reason.data, outstanding=form.outstanding.data, outstanding_reason=form.outstanding_reason.data)
        except ValidationError as error:
            db.session.rollback()
            _apply_errors(form, error)
        else:
            db.session.commit()
            flash(_("Certificate %(number)s issued.", number=certificate.number), "info")
            return redirect(url_for(".certificate", number=certificate.number))
    return render_template("office/audit.html", audit=audit, scheme=get_scheme(audit.scheme_id), form=form,
                           stars_policy=current_app.config["STARS_REQUIRE_YEAR_AT_COMPLIANT"]), 422


CERTIFICATE_AUDITS = {
    "surveillance": (AuditKind.SURVEILLANCE, services.record_surveillance_audit),
    "recertification": (AuditKind.RECERTIFICATION, services.record_recertification),
    "special": (AuditKind.SPECIAL, services.record_special_audit),
}


@bp.route("/certificates/<number>/audits/new", methods=["GET", "POST"])
@deciders
def new_certificate_audit(number: str):
    certificate = services.get_certificate(current_user, number)
    kind_name = request.args.get("kind", "surveillance")
    if kind_name not in CERTIFICATE_AUDITS:
        abort(404)
    kind, service = CERTIFICATE_AUDITS[kind_name]

    def save(form, data):
        outcome = service(current_user, certificate, data, reason=form.reason.data, apply_raise=form.apply_raise.data,
                          outstanding=form.outstanding.data, outstanding_reason=form.outstanding_reason.data)
        db.session.commit()
        if not outcome.passed:
            flash(_("The audit did not pass. Decide now whether to suspend or revoke the certificate."), "error")
        else:
            flash(_("Audit recorded."), "info")
            if outcome.capped:
                flash(_("The level was not raised: the policy requires a year at the Compliant level first, unless results are outstanding."), "info")
        return redirect(url_for(".certificate", number=certificate.number))

    return _audit_page(scheme=certificate.scheme, kind=kind, company=certificate.company, certificate=certificate,
                       save=save)


# --- one certificate: details and decisions ----------------------------------------------------------

def _certificate_forms(certificate, failed: str | None = None, failed_form=None) -> dict:
    built = {
        "edit": forms.CertificateEditForm(prefix="edit", formdata=None, scope=certificate.scope,
                                          service_sites="\n".join(certificate.service_sites or [])),
        "suspend": forms.SuspendForm(prefix="suspend", formdata=None, until=services.default_suspension_end()),
        "restore": forms.ReasonForm(prefix="restore", formdata=None),
        "revoke": forms.ReasonForm(prefix="revoke", formdata=None),
        "withdraw": forms.ReasonForm(prefix="withdraw", formdata=None),
    }
    if failed:
        built[failed] = failed_form
    return built


def _render_certificate(certificate, status=200, failed=None, failed_form=None):
    history = db.session.scalars(select(LedgerEntry).where(LedgerEntry.certificate_number == certificate.number)
                                 .order_by(LedgerEntry.seq.desc()).limit(50)).all()
    return render_template("office/certificate.html", certificate=certificate, forms=_certificate_forms(
        certificate, failed, failed_form), failed=failed, history=history,
        status=certificate.effective_status(clock.today()),
        overdue_suspension=services.suspended_for_overdue_surveillance(certificate) or (
            certificate.status == "valid" and certificate.effective_status(clock.today()).value == "suspended"),
        latest_end=services.default_suspension_end()), status


@bp.route("/certificates/<number>")
def certificate(number: str):
    return _render_certificate(services.get_certificate(current_user, number))


ACTIONS = {
    "edit": (forms.CertificateEditForm, lambda c, f: services.update_certificate(
        current_user, c, scope=f.scope.data, service_sites=f.service_sites.data, reason=f.reason.data),
        lambda: _("Certificate details saved.")),
    "suspend": (forms.SuspendForm, lambda c, f: lifecycle.suspend_certificate(
        c, reason=f.reason.data, until=f.until.data, actor=current_user), lambda: _("Certificate suspended.")),
    "restore": (forms.ReasonForm, lambda c, f: services.restore(current_user, c, reason=f.reason.data),
                lambda: _("Certificate restored.")),
    "revoke": (forms.ReasonForm, lambda c, f: lifecycle.revoke_certificate(c, reason=f.reason.data, actor=current_user),
               lambda: _("Certificate revoked.")),
    "withdraw": (forms.ReasonForm, lambda c, f: lifecycle.withdraw_certificate(
        c, reason=f.reason.data, actor=current_user), lambda: _("Certificate withdrawn.")),
}


@bp.route("/certificates/<number>/<action>", methods=["POST"])
@deciders
def certificate_action(number: str, action: str):
    if action not in ACTIONS:
        abort(404)
    certificate = services.get_certificate(current_user, number)
    form_class, run, done = ACTIONS[action]
    form = form_class(prefix=action)
    if form.validate_on_submit():
        try:
            run(certificate, form)
        except ValidationError as error:  # InvalidTransition is a ValidationError too
            db.session.rollback()
            certificate = services.get_certificate(current_user, number)
            _apply_errors(form, error)
        else:
            db.session.commit()
            flash(done(), "info")
            return redirect(url_for(".certificate", number=certificate.number))
    return _render_certificate(certificate, 422, action, form)
