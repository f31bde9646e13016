"""Complaint pages: filing, the consumer's private link, company and moderator case pages, the queue,
the published sanction rules and sanction decisions. Views parse, call one service, commit once."""
from __future__ import annotations

import os
import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse_many

from registry import clock
from registry.accounts.decorators import role_required
from registry.certificates import services as certificate_services
from registry.complaints import calendar, forms, presenters, rules, services, staging, uploads
from registry.complaints import models as _models  # noqa: F401  (create_all must see the tables)
from registry.complaints.models import ComplaintAttachment
from registry.complaints.policy import deadline_policy, hearing_policy, sanction_policy
from registry.errors import NotFound, ValidationError
from registry.extensions import db, limiter
from registry.paging import page_arg

bp = Blueprint("complaints", __name__, url_prefix="/complaints")
STAFF = ("admin", "moderator", "officer")




@bp.app_context_processor
def complaint_helpers():
    """Template helpers for other domains' pages (the certificate page includes the stats block)."""
    def complaint_block(certificate):
        return {"stats": services.certificate_stats(certificate.id),
                "summaries": services.public_summaries(certificate.id, limit=5)}
    def holiday_warning():
        return calendar.next_year_warning(clock.today())

    def sanction_block(certificate):
        today = clock.today()
        return [{"proposal": p, "overdue": services.is_appeal_overdue(p, today)}
                for p in services.public_sanctions(certificate.id)]
    return {"complaint_block": complaint_block, "cp": presenters, "complaint_sanction_policy": sanction_policy,
            "holiday_warning": holiday_warning, "cp_provisional": calendar.is_estimated,
            "sanction_block": sanction_block, "complaint_hearing_policy": hearing_policy}


# ---------------------------------------------------------------- filing limits

def _filing_keys(mobile: str | None) -> list[tuple[str, str]]:
    """A filing counts against the client and against the mobile number: carrier NAT puts a whole city
    behind one address, so the address limit alone would lock out strangers; the mobile limit follows the person."""
    keys = [("client", get_remote_address() or "")]
    if mobile:
        keys.append(("mobile", mobile))
    return keys


def _filing_limits(kind: str):
    # Per mobile number the published limit; per client address a wider one, since many people share it.
    setting = "COMPLAINT_FILING_RATE_LIMIT" if kind == "mobile" else "COMPLAINT_FILING_CLIENT_RATE_LIMIT"
    return parse_many(current_app.config.get(setting) or current_app.config["COMPLAINT_FILING_RATE_LIMIT"])


def filing_retry_after(mobile: str | None) -> int | None:
    """Seconds until this client (or this mobile number) may file again, or None if it may file now."""
    if not limiter.enabled:
        return None
    strategy = limiter.limiter
    waits = []
    for kind, key in _filing_keys(mobile):
        for item in _filing_limits(kind):
            if not strategy.test(item, "complaint-filing", kind, key):
                reset_at, _remaining = strategy.get_window_stats(item, "complaint-filing", kind, key)
                waits.append(max(1, int(reset_at - time.time())))
    return max(waits) if waits else None


def count_filing(mobile: str | None) -> None:
    """Only a filing that was stored counts: a typing mistake never costs the consumer a try."""
    if not limiter.enabled:
        return
    for kind, key in _filing_keys(mobile):
        for item in _filing_limits(kind):
            limiter.limiter.hit(item, "complaint-filing", kind, key)


def _resend_allowed(mobile: str | None) -> bool:
    """Every request counts (found or not), per mobile number and per client address."""
    if not limiter.enabled:
        return True
    strategy = limiter.limiter
    items = parse_many(current_app.config["COMPLAINT_LINK_RESEND_RATE_LIMIT"])
    keys = _filing_keys(mobile)
    if not all(strategy.test(item, "complaint-link", kind, key) for item in items for kind, key in keys):
        return False
    for item in items:
        for kind, key in keys:
            strategy.hit(item, "complaint-link", kind, key)
    return True


@bp.route("/link", methods=["GET", "POST"])
def resend_link():
    """A consumer who lost the private link asks for a new one, sent to the mobile number used."""
    form = forms.ResendLinkForm()
    if form.validate_on_submit():
        mobile = forms.normalise_mobile(form.mobile.data)
        if not _resend_allowed(mobile):
            flash(_("Too many requests for this number. Please try again in an hour."), "error")
            return render_template("complaints/resend.html", form=form), 429
        services.resend_private_links(mobile)
        db.session.commit()
        # The same answer whether or not the number filed anything.
        flash(_("If a complaint was filed with this number, a new private link is on its way by SMS. "
                "Earlier links no longer work."))
        return redirect(url_for(".resend_link"))
    status = 422 if request.method == "POST" else 200
    return render_template("complaints/resend.html", form=form), status


# ---------------------------------------------------------------- filing

@bp.route("/new", methods=["GET", "POST"])
def new():
    form = forms.FilingForm()
    if request.method == "GET":
        number = request.args.get("certificate", "").strip()
        if number:
            form.certificate.data = number
    certificate = None
    if form.certificate.data:
        try:
            certificate = services.find_certificate(form.certificate.data)
        except NotFound:
            if request.method == "GET":
                flash(_("No certificate has this number. Search for it below."), "error")
    query = request.args.get("q", "").strip()[:100]
    matches = certificate_services.lookup(query) if query and certificate is None else []

    if request.method == "POST":
        if form.website.data:
            # A bot filled the hidden field: refuse without saying why, store nothing.
            return render_template("complaints/new.html", form=form, certificate=certificate, query=query,
                                   matches=matches, refused=True), 400
        staging.remove(request.form.getlist("remove_staged"))
        mobile = forms.normalise_mobile(form.mobile.data)
        wait = filing_retry_after(mobile)
        if wait is not None:
            # Refused before anything is read or stored; the form comes back with everything typed.
            minutes = max(1, (wait + 59) // 60)
            flash(_("You have filed several complaints recently. You can file again in %(minutes)s minutes; "
                    "everything you typed is kept below.", minutes=minutes), "error")
            response = current_app.make_response((render_template(
                "complaints/new.html", form=form, certificate=certificate, query=query, matches=matches,
                **_keep_files(form)), 429))
            response.headers["Retry-After"] = str(wait)
            return response
        files = None
        if form.validate_on_submit():
            files = forms.checked_files(form.attachments)
        if files is not None:
            files = staging.take() + files
            data = services.FilingData(
                certificate_number=form.certificate.data, category=form.category.data,
                description=form.description.data, purchase_date=form.purchase_date.data,
                order_number=form.order_number.data or "", desired_resolution=form.desired_resolution.data,
                amount=form.amount.data, name=form.name.data, mobile=forms.normalise_mobile(form.mobile.data),
                email=form.email.data or "", consent=bool(form.consent.data), files=files)
            try:
                complaint, token = services.file_complaint(data)
            except (ValidationError, NotFound) as error:
                db.session.rollback()
                _field_errors(form, error)
            else:
                db.session.commit()
                staging.clear()
                count_filing(mobile)
                session.setdefault("filed", {})
                session["filed"] = {complaint.tracking_number: token}
                return redirect(url_for(".filed", tracking=complaint.tracking_number))
        return render_template("complaints/new.html", form=form, certificate=certificate, query=query,
                               matches=matches, **_keep_files(form)), 422
    return render_template("complaints/new.html", form=form, certificate=certificate, query=query, matches=matches,
                           staged=staging.staged())


def _keep_files(form) -> dict:
    """After a refusal: keep the chosen files that pass the content check (a browser cannot re-fill a file
    field); name the ones that could not be kept, so the page says plainly they must be chosen again."""
    max_bytes = int(current_app.config["COMPLAINT_ATTACHMENT_MAX_BYTES"])
    limit = int(current_app.config["COMPLAINT_MAX_ATTACHMENTS"])
    good, dropped = [], []
    for storage in (form.attachments.data or []):
        if not getattr(storage, "filename", ""):
            continue
        storage.stream.seek(0)
        try:
            good.append(uploads.check(storage.filename, storage.stream.read(max_bytes + 1), max_bytes))
        except uploads.UploadRefused:
            dropped.append(storage.filename)
    before = {item["id"] for item in staging.staged()}
    staging.stage(good, limit)
    kept = [item for item in staging.staged() if item["id"] not in before]
    dropped += [f.original_name for f in good[len(kept):]]
    return {"staged": staging.staged(), "files_dropped": dropped}


def _field_errors(form, error) -> None:
    fields = getattr(error, "fields", {}) or {}
    placed = False
    for name, message in fields.items():
        target = {"reason": "text"}.get(name, name)
        if hasattr(form, target):
            getattr(form, target).errors = list(getattr(form, target).errors or []) + [message]
            placed = True
    if isinstance(error, NotFound) and hasattr(form, "certificate"):
        form.certificate.errors = list(form.certificate.errors or []) + [error.message]
        placed = True
    if not placed:
        flash(error.message, "error")


@bp.route("/filed/<tracking>")
def filed(tracking: str):
    token = (session.get("filed") or {}).get(tracking)
    if not token:
        raise NotFound()
    link = url_for(".track", tracking=tracking, token=token, _external=False)
    full_link = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + link
    return render_template("complaints/filed.html", tracking=tracking, link=link, full_link=full_link)


# ---------------------------------------------------------------- the consumer's private link

@bp.route("/<tracking>")
def track(tracking: str):
    token = request.args.get("token", "")
    complaint = services.open_with_token(tracking, token)
    actor = services.ConsumerActor(complaint.id)
    return render_template("complaints/track.html", complaint=complaint, token=token,
                           events=services.visible_events(complaint, actor),
                           actions=rules.allowed_actions(complaint.state, rules.ActorRole.CONSUMER),
                           form=forms.MessageForm(formdata=None, token=token, version=complaint.version),
                           choice_open_until=_choice_open_until(complaint), today=clock.today())


@bp.route("/<tracking>/log")
def public_log(tracking: str):
    """The public resolution log of a closed complaint: roles, dates and public texts only."""
    complaint, events = services.public_log(tracking)
    return render_template("complaints/public_log.html", complaint=complaint, events=events)


CONSUMER_ACTIONS = {"add_info", "consumer_accept", "dispute", "withdraw"}


@bp.route("/<tracking>/<action>", methods=["POST"])
def consumer_action(tracking: str, action: str):
    if action not in CONSUMER_ACTIONS:
        abort(404)
    form = forms.MessageForm()
    complaint = services.open_with_token(tracking, form.token.data or request.args.get("token", ""))
    actor = services.ConsumerActor(complaint.id)
    back = url_for(".track", tracking=tracking, token=form.token.data)
    if not form.validate_on_submit():
        flash(_("Please check what you entered."), "error")
        return redirect(back)
    if action == "withdraw" and not request.form.get("confirm"):
        flash(_("Tick the box to confirm that you want to withdraw the complaint."), "error")
        return redirect(back)
    files = forms.checked_files(form.attachments) if action == "add_info" else []
    if files is None:
        for message in form.attachments.errors:
            flash(message, "error")
        return redirect(back)
    try:
        if action == "add_info":
            services.add_information(complaint, actor, text=form.text.data, files=files, expected_version=form.version.data)
        elif action == "consumer_accept":
            services.consumer_accepts(complaint, actor, comment=form.text.data or "", expected_version=form.version.data)
        elif action == "dispute":
            services.dispute_complaint(complaint, actor, comment=form.text.data, expected_version=form.version.data)
        else:
            services.withdraw_complaint(complaint, actor, comment=form.text.data or "", expected_version=form.version.data)
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(back)
    db.session.commit()
    flash(_("Done. Your complaint is now: %(state)s.", state=presenters.state_name(complaint.state)))
    return redirect(back)


@bp.route("/attachments/<int:attachment_id>")
def attachment(attachment_id: int):
    item = db.session.get(ComplaintAttachment, attachment_id)
    if item is None:
        raise NotFound()
    token = request.args.get("token")
    if token:
        complaint = services.open_with_token(item.complaint.tracking_number, token)
        viewer = services.ConsumerActor(complaint.id)
    elif current_user.is_authenticated:
        complaint = services.get_for_user(item.complaint.tracking_number, current_user)
        viewer = current_user
    else:
        raise NotFound()
    if not services.can_see_attachment(complaint, item, viewer):
        raise NotFound()
    path = uploads.path_of(current_app.config["UPLOAD_DIR"], item.stored_name)
    if not os.path.exists(path):
        raise NotFound()
    response = send_file(path, mimetype=item.content_type, download_name=item.original_name,
                         as_attachment=item.content_type == "application/pdf", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- staff and company

@bp.route("/queue")
@role_required(*STAFF)
def queue():
    filters = services.QueueFilters.from_args(request.args)
    pagination = services.moderation_queue(filters, page_arg())
    return render_template("complaints/queue.html", pagination=pagination, filters=filters, today=clock.today(),
                           states=list(rules.State), categories=current_app.config["COMPLAINT_CATEGORIES"])


@bp.route("/mine")
@role_required("company")
def mine():
    pagination = services.company_complaints(current_user, page_arg(), state=request.args.get("state", ""))
    proposals = services.sanction_proposals(current_user)
    return render_template("complaints/mine.html", pagination=pagination, today=clock.today(), proposals=proposals)


@bp.route("/case/<tracking>")
@role_required(*STAFF, "company")
def case(tracking: str):
    complaint = services.get_for_user(tracking, current_user)
    role = services.actor_role(current_user) if not current_user.has_role("officer") else None
    events = services.visible_events(complaint, current_user)
    # The company reads the consumer's words through the detector: the contact box gives it what it needs.
    bodies = ({e.id: services.masked_for_company(complaint, e.body) for e in events if e.actor_role != "company"}
              if current_user.has_role("company") else {})
    return render_template("complaints/case.html", complaint=complaint, events=events, bodies=bodies,
                           contact=services.contact_for(complaint, current_user),
                           actions=rules.allowed_actions(complaint.state, role) if role else [],
                           # Never pre-filled with the consumer's text: a summary is the moderator's own words.
                           moderation=forms.ModerationForm(formdata=None, version=complaint.version),
                           message=forms.MessageForm(formdata=None, version=complaint.version),
                           can_confirm_unanswered=services.can_confirm_unanswered(complaint, current_user),
                           choice_open_until=_choice_open_until(complaint),
                           today=clock.today())


def _choice_open_until(complaint):
    until = services.consumer_choice_until(complaint)
    return until if until is not None and clock.today() <= until else None


STAFF_ACTIONS = {"accept", "reject", "request_info", "mediate", "close", "redact", "respond", "confirm_unanswered"}


@bp.route("/case/<tracking>/<action>", methods=["POST"])
@role_required("admin", "moderator", "company")
def case_action(tracking: str, action: str):
    if action not in STAFF_ACTIONS:
        abort(404)
    complaint = services.get_for_user(tracking, current_user)
    back = url_for(".case", tracking=tracking)
    proposal = None
    try:
        if action == "respond":
            form = forms.MessageForm()
            if not form.validate_on_submit():
                raise ValidationError(_("Please check what you entered."))
            files = forms.checked_files(form.attachments)
            if files is None:
                raise ValidationError(" ".join(str(m) for m in form.attachments.errors))
            services.respond_to_complaint(complaint, current_user, text=form.text.data, proposal=form.proposal.data or "",
                                          files=files, expected_version=form.version.data)
        else:
            form = forms.ModerationForm()
            if not form.validate_on_submit():
                raise ValidationError(_("Please check what you entered."))
            kwargs = {"expected_version": form.version.data}
            if action == "accept":
                services.accept_complaint(complaint, current_user, note=form.note.data or "",
                                          public_summary=form.public_summary.data or None, **kwargs)
            elif action == "reject":
                services.reject_complaint(complaint, current_user, reason=form.reason.data, note=form.note.data or "", **kwargs)
            elif action == "request_info":
                services.request_information(complaint, current_user, text=form.note.data, **kwargs)
            elif action == "mediate":
                services.start_mediation(complaint, current_user, note=form.note.data or "", **kwargs)
            elif action == "confirm_unanswered":
                services.confirm_unanswered(complaint, current_user, **kwargs)
            elif action == "redact":
                services.redact_complaint(complaint, current_user, public_summary=form.public_summary.data, **kwargs)
            else:
                # Only a fully upheld critical complaint proposes suspension (the published rule); ask to confirm it.
                if (form.outcome.data == "upheld" and form.severity.data == "critical"
                        and not request.form.get("confirm")):
                    raise ValidationError(_("A critical upheld complaint proposes suspending the certificate (after the company's short hearing window): tick the box to confirm."))
                proposal = services.close_complaint(complaint, current_user, outcome=form.outcome.data,
                                                    severity=form.severity.data or None,
                                                    public_summary=form.public_summary.data, note=form.note.data or "",
                                                    early_reason=form.early_reason.data or "", **kwargs)
    except ValidationError as error:
        db.session.rollback()
        flash(error.message or _("Please check what you entered."), "error")
        for message in error.fields.values():
            flash(message, "error")
        return redirect(back), 303
    db.session.commit()
    flash(_("Done. The complaint is now: %(state)s.", state=presenters.state_name(complaint.state)))
    if proposal is not None:
        flash(_("The published rules call for a sanction; proposal #%(id)s awaits an officer.", id=proposal.id))
    return redirect(back), 303


# ---------------------------------------------------------------- published rules and sanctions

@bp.route("/rules")
def sanction_rules():
    first, last = calendar.known_years()
    return render_template("complaints/rules.html", policy=sanction_policy(), deadlines=deadline_policy(),
                           calendar_years=(first, last))


@bp.route("/sanctions")
@role_required(*STAFF, "company")
def sanctions():
    today = clock.today()
    proposals = services.sanction_proposals(current_user)
    return render_template("complaints/sanctions.html", proposals=proposals, today=today,
                           overdue={p.id for p in proposals if services.is_appeal_overdue(p, today)})


@bp.route("/sanctions/<int:proposal_id>")
@role_required(*STAFF, "company")
def sanction(proposal_id: int):
    proposal = services.get_proposal(proposal_id, current_user)
    return render_template("complaints/sanction.html", proposal=proposal,
                           form=forms.SanctionForm(formdata=None, version=proposal.version),
                           can_decide=services.can_decide_now(proposal),
                           can_provisional=services.can_suspend_provisionally(proposal),
                           appeal_overdue=services.is_appeal_overdue(proposal), today=clock.today())


SANCTION_ACTIONS = {"respond", "decide", "appeal", "decide_appeal", "provisional"}


@bp.route("/sanctions/<int:proposal_id>/<action>", methods=["POST"])
@role_required("admin", "officer", "company")
def sanction_action(proposal_id: int, action: str):
    if action not in SANCTION_ACTIONS:
        abort(404)
    proposal = services.get_proposal(proposal_id, current_user)
    form = forms.SanctionForm()
    back = url_for(".sanction", proposal_id=proposal_id)
    try:
        if not form.validate_on_submit():
            raise ValidationError(_("Please write the reason or statement."))
        if action == "respond":
            services.respond_to_sanction(proposal, current_user, text=form.text.data)
        elif action == "appeal":
            services.appeal_sanction(proposal, current_user, text=form.text.data)
        elif action == "provisional":
            services.suspend_provisionally(proposal, current_user, reason=form.text.data,
                                           expected_version=form.version.data)
        elif form.decision.data not in ("confirm", "reject"):
            raise ValidationError(_("Choose confirm or reject."))
        elif action == "decide":
            services.decide_sanction(proposal, current_user, confirm=form.decision.data == "confirm",
                                     reason=form.text.data, expected_version=form.version.data)
        else:
            services.decide_appeal(proposal, current_user, uphold=form.decision.data == "confirm",
                                   reason=form.text.data, expected_version=form.version.data)
    except ValidationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(back), 303
    db.session.commit()
    flash(_("Saved. The proposal is now: %(state)s.", state=presenters.sanction_state_name(proposal.state)))
    return redirect(back), 303
