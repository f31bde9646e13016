"""Public certificate pages: the register with filters, and one certificate's full record."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from registry import clock
from registry.accounts.decorators import role_required
from registry.certificates import explain, services
from registry.certificates.company_home import company_home
from registry.certificates.models import Audit
from registry.certificates.suggestions import suggest
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from registry.paging import page_arg
from registry.schemes import all_schemes

bp = Blueprint("certificates", __name__, url_prefix="/certificates")




@bp.route("")
def index():
    filters = services.CertificateFilters.from_args(request.args)
    pagination = services.list_certificates(filters, page_arg(), current_app.config["CERTIFICATES_PER_PAGE"])
    return render_template("certificates/index.html", pagination=pagination, filters=filters,
                           choices=services.filter_choices(), schemes=all_schemes())


@bp.route("/<number>")
def detail(number: str):
    certificate = services.get_certificate(number)
    audits = db.session.scalars(select(Audit).where(Audit.certificate_id == certificate.id)
                                .order_by(Audit.audited_on.desc())).all()
    history = db.session.scalars(select(LedgerEntry).where(LedgerEntry.certificate_number == certificate.number)
                                 .order_by(LedgerEntry.seq.desc())).all()
    oldest_first = sorted(history, key=lambda e: (e.effective_on, e.seq))
    return render_template("certificates/detail.html", certificate=certificate, audits=audits, history=history,
                           status=certificate.effective_status(clock.today()),
                           lowered=explain.level_lowered(oldest_first, certificate.scheme_id, certificate.level))


@bp.route("/ours")
@role_required("company")
def ours():
    """A company's home after sign-in: its certificates with what to do next, and what waits for it."""
    home = company_home(current_user)
    return render_template("certificates/ours.html", home=home)


@bp.route("/lookup")
def lookup():
    """The verify box: one match goes straight to the certificate, several give a short list."""
    query = request.args.get("q", "")
    matches = services.lookup(query)
    if len(matches) == 1:
        return redirect(url_for(".detail", number=matches[0].number))
    if matches or not query.strip():
        return (render_template("certificates/lookup.html", query=query, matches=matches, suggestions=None),
                200 if matches else 404)
    # Nothing exact: a fragment of a real name or number must lead to that company, never to "forged".
    suggestions = suggest(query)
    return (render_template("certificates/lookup.html", query=query, matches=[], suggestions=suggestions),
            200 if suggestions.certificates else 404)
