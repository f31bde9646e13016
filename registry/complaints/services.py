"""Complaint use cases: filing, every step of the lifecycle, overdue marking, statistics and sanctions.

Services never commit; they check permissions themselves (a hidden button is not security) and raise only
registry.errors exceptions. Every transition writes a ComplaintEvent and bumps the monthly counters in
the same transaction; outcomes and sanctions go to the ledger through certificates.lifecycle.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from registry import clock
from registry.certificates import lifecycle
from registry.certificates.models import Certificate
from registry.certificates.rules import TERMINAL_STATUSES, CertificateStatus
from registry.complaints import calendar, messages, privacy, rules, uploads
from registry.complaints.models import (
    Complaint,
    ComplaintAttachment,
    ComplaintEvent,
    ComplaintMonthlyStat,
    SanctionProposal,
)
from registry.complaints.policy import deadline_policy, hearing_policy, sanction_policy
from registry.complaints.rules import Action, ActorRole, Outcome, State
from registry.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from registry.extensions import db
from registry.ledger.messages import N_, LedgerMessage, legal_text, msgid
from registry.ledger.models import LedgerEntry

STAFF_ROLES = ("admin", "moderator", "officer")
MODERATING_ROLES = ("admin", "moderator")
TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


# ---------------------------------------------------------------- actors

@dataclass(frozen=True)
class ConsumerActor:
    """The person holding a complaint's private link; proven by the token, never by an account."""
    complaint_id: int
    role: str = "consumer"
    id: None = None

    def has_role(self, *roles) -> bool:
        return "consumer" in {str(r) for r in roles}


def actor_role(actor) -> ActorRole:
    """How the state machine sees an actor (admins moderate; officers only read complaints)."""
    if isinstance(actor, ConsumerActor):
        return ActorRole.CONSUMER
    if actor is not None and actor.has_role(*MODERATING_ROLES):
        return ActorRole.MODERATOR
    if actor is not None and actor.has_role("company"):
        return ActorRole.COMPANY
    if actor is lifecycle.SYSTEM:
        return ActorRole.SYSTEM
    raise PermissionDenied(_("You may not act on complaints."))


# ---------------------------------------------------------------- helpers

def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_tracking_number(today: dt.date) -> str:
    while True:
        code = "".join(secrets.choice(TRACKING_ALPHABET) for _i in range(6))
        number = f"TS{today:%y%m%d}-{code}"
        if db.session.scalar(select(Complaint.id).where(Complaint.tracking_number == number)) is None:
            return number


def _bump(certificate_id: int, day: dt.date, **counts: int) -> None:
    """Add to the certificate's counters for `day`'s month: an atomic upsert, so concurrent events add up."""
    month = rules.month_start(day)
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(insert(ComplaintMonthlyStat).values(certificate_id=certificate_id, month=month)
                       .on_conflict_do_nothing(index_elements=["certificate_id", "month"]))
    table = ComplaintMonthlyStat.__table__
    db.session.execute(update(table).where(table.c.certificate_id == certificate_id, table.c.month == month)
                       .values({name: table.c[name] + n for name, n in counts.items()}))


def _set_due(complaint: Complaint) -> None:
    """Recompute the current stage's deadline in PRC working days."""
    due = rules.due_on(complaint.state, clock_started_on=complaint.clock_started_on,
                       accepted_on=complaint.accepted_on, policy=deadline_policy(), is_workday=calendar.is_workday)
    complaint.due_on = due
    start = complaint.accepted_on if complaint.state != State.SUBMITTED and complaint.accepted_on else complaint.clock_started_on
    complaint.due_estimated = calendar.is_provisional(start, due)


def _response_due(complaint: Complaint) -> dt.date | None:
    """The company's deadline for its first answer, counted from acceptance."""
    if complaint.accepted_on is None:
        return None
    return rules.add_workdays(complaint.accepted_on, deadline_policy().respond_workdays, calendar.is_workday)


def response_deadline_is_provisional(complaint: Complaint) -> bool:
    """Whether the company's answer deadline crosses a year whose holidays are not known yet."""
    return calendar.is_provisional(complaint.accepted_on, complaint.response_due_on)


def due_words(day: dt.date, start: dt.date | None = None) -> str:
    """A deadline as every message and public event writes it: the date, marked provisional when it is."""
    if calendar.is_provisional(start or day, day):
        return _("%(day)s (provisional: the holiday schedule for %(year)s is not yet published)",
                 day=day.isoformat(), year=max(y for y in range((start or day).year, day.year + 1)
                                               if not calendar.calendar_knows(y)))
    return day.isoformat()


def _event(complaint: Complaint, action: str, actor, *, public_text: str = "", body: str = "",
           staff_only: bool = False, today: dt.date | None = None) -> ComplaintEvent:
    role = "system" if actor is lifecycle.SYSTEM else actor_role(actor).value
    event = ComplaintEvent(complaint=complaint, on=today or clock.today(), actor_role=role,
                           actor_id=getattr(actor, "id", None) if role in ("moderator", "company") else None,
                           action=action, state_after=complaint.state, public_text=public_text, body=body,
                           staff_only=staff_only)
    db.session.add(event)
    return event


def _flush_or_conflict() -> None:
    """Flush; a concurrent change to the same row (version mismatch) becomes a clear refusal."""
    try:
        db.session.flush()
    except (StaleDataError, OperationalError) as error:
        if isinstance(error, OperationalError) and not _is_lock_conflict(error):
            raise
        db.session.rollback()
        raise InvalidTransition(_("Someone else acted on this at the same moment. Reload the page to see the current state.")) from None


def _is_lock_conflict(error: OperationalError) -> bool:
    # SQLite refuses a write from a transaction whose snapshot another writer has just changed.
    text = str(error.orig).lower()
    return "locked" in text or "busy" in text


def _check_version(obj, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != obj.version:
        raise InvalidTransition(_("Someone else acted on this complaint meanwhile. Reload the page to see the current state."))


def _transition(complaint: Complaint, action: Action, actor, expected_version: int | None = None) -> State:
    _check_version(complaint, expected_version)
    try:
        new_state = rules.next_state(complaint.state, action, actor_role(actor))
    except rules.IllegalComplaintTransition as error:
        if error.wrong_role:
            raise PermissionDenied(_("You may not take this action on this complaint.")) from error
        raise InvalidTransition(_("This complaint is %(state)s; that action is not possible now.",
                                  state=state_word(complaint.state))) from error
    return new_state


def _move(complaint: Complaint, action: Action, actor, expected_version: int | None = None) -> None:
    """Apply a transition and write the row at once: the version check on this first write decides
    which of two simultaneous actors wins, before anything else (counters, ledger) is touched."""
    complaint.state = _transition(complaint, action, actor, expected_version).value
    _flush_or_conflict()


def _require_text(text: str | None, field_name: str = "text", minimum: int = 2) -> str:
    cleaned = (text or "").strip()
    if len(cleaned) < minimum:
        raise ValidationError(_("Please write a few words."), fields={field_name: _("This field is required.")})
    return cleaned


def _attach(complaint: Complaint, files: list[uploads.CheckedFile], role: str, event: ComplaintEvent | None) -> None:
    if not files:
        return
    limit = int(current_app.config["COMPLAINT_MAX_ATTACHMENTS"])
    if len(complaint.attachments) + len(files) > limit * 2:
        raise ValidationError(_("This complaint already has the most attachments allowed."),
                              fields={"attachments": _("No more files can be added.")})
    db.session.flush()
    for checked in files:
        stored = uploads.store(current_app.config["UPLOAD_DIR"], complaint.id, checked)
        db.session.add(ComplaintAttachment(complaint=complaint, event_id=event.id if event is not None else None,
                                           uploaded_by_role=role, original_name=checked.original_name,
                                           stored_name=stored, content_type=checked.content_type,
                                           size=len(checked.data), sha256=checked.sha256))


def state_word(state: str) -> str:
    from registry.complaints.presenters import state_name
    return state_name(state)


def _notify_consumer(complaint: Complaint, subject: str, body: str) -> None:
    messages.queue(db.session, "sms", complaint.consumer_mobile, subject, body)
    if complaint.consumer_email:
        messages.queue(db.session, "email", complaint.consumer_email, subject, body)


def _notify_company(company_id: int, subject: str, body: str) -> None:
    from registry.accounts.models import User
    for email in db.session.scalars(select(User.email).where(User.company_id == company_id, User.role == "company",
                                                             User.active.is_(True))):
        messages.queue(db.session, "email", email, subject, body)


def _tracking_link(complaint: Complaint, token: str | None = None) -> str:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    link = f"{base}/complaints/{complaint.tracking_number}"
    return f"{link}?token={token}" if token else link


# ---------------------------------------------------------------- filing

@dataclass
class FilingData:
    certificate_number: str
    category: str
    description: str
    purchase_date: dt.date | None
    order_number: str
    desired_resolution: str
    amount: Decimal | None
    name: str
    mobile: str            # already validated and normalised to E.164 by the form
    email: str
    consent: bool
    files: list[uploads.CheckedFile] = field(default_factory=list)


def find_certificate(number: str) -> Certificate:
    """The certificate a complaint is about, by its exact number (case-insensitive).

    Raises:
        NotFound
    """
    text = (number or "").strip().upper()
    certificate = db.session.scalar(select(Certificate).where(func.upper(Certificate.number) == text)) if text else None
    if certificate is None:
        raise NotFound(_("No certificate has this number."))
    return certificate


def file_complaint(data: FilingData) -> tuple[Complaint, str]:
    """Record a new complaint and return it with the secret token of its private link (shown once).

    Raises:
        NotFound, ValidationError
    """
    certificate = find_certificate(data.certificate_number)
    if not data.consent:
        raise ValidationError(_("Please confirm that you have read who will see what."),
                              fields={"consent": _("Required.")})
    if data.category not in current_app.config["COMPLAINT_CATEGORIES"]:
        raise ValidationError(_("Choose a category."), fields={"category": _("Choose a category.")})
    if data.desired_resolution not in rules.RESOLUTIONS:
        raise ValidationError(_("Choose what you would like."), fields={"desired_resolution": _("Required.")})
    if len(data.files) > int(current_app.config["COMPLAINT_MAX_ATTACHMENTS"]):
        raise ValidationError(_("At most %(n)s files.", n=current_app.config["COMPLAINT_MAX_ATTACHMENTS"]),
                              fields={"attachments": _("Too many files.")})
    today = clock.today()
    if data.purchase_date and data.purchase_date > today:
        raise ValidationError(_("The purchase date cannot be in the future."),
                              fields={"purchase_date": _("The purchase date cannot be in the future.")})
    token = secrets.token_urlsafe(24)
    description = _require_text(data.description, "description", 10)
    complaint = Complaint(
        tracking_number=_new_tracking_number(today), token_hash=hash_token(token), certificate=certificate,
        company_id=certificate.company_id, category=data.category, description=description,
        purchase_date=data.purchase_date, order_number=data.order_number.strip(),
        desired_resolution=data.desired_resolution, amount=data.amount, consumer_name=data.name.strip(),
        consumer_mobile=data.mobile, consumer_email=(data.email or "").strip(), consented_at=clock.utcnow(),
        # The public text is composed from the structured fields (presenters.public_account); the consumer's
        # own words are never published. A moderator may add a summary, checked before it is saved.
        public_summary="",
        state=State.SUBMITTED.value, filed_on=today, clock_started_on=today,
    )
    db.session.add(complaint)
    _set_due(complaint)
    event = _event(complaint, "filed", ConsumerActor(0), today=today,
                   public_text=_("Complaint received."), body=description)
    _attach(complaint, data.files, "consumer", event)
    _bump(certificate.id, today, received=1)
    _notify_consumer(complaint, _("Complaint %(number)s received", number=complaint.tracking_number),
                     _("We received your complaint. Follow it here (keep this link private): %(link)s",
                       link=_tracking_link(complaint, token)))
    db.session.flush()
    return complaint, token


# ---------------------------------------------------------------- access

def open_with_token(tracking_number: str, token: str | None) -> Complaint:
    """The complaint whose private link this is. A wrong or missing token looks exactly like no complaint.

    Raises:
        NotFound
    """
    complaint = db.session.scalar(select(Complaint).where(Complaint.tracking_number == (tracking_number or "").strip()))
    if complaint is None or not token or not hmac.compare_digest(complaint.token_hash, hash_token(token)):
        raise NotFound(_("No complaint matches this link. Check that you copied the whole link."))
    return complaint


def resend_private_links(mobile: str) -> int:
    """Send new private links by SMS to the mobile number a complaint was filed with; returns how many.

    Only the token's hash is stored, so the lost link cannot be sent again: each complaint gets a new
    token and the old link stops working. The caller answers the same whatever the count (an unknown
    number must not be told apart from a known one).
    """
    if not mobile:
        return 0
    complaints = db.session.scalars(select(Complaint).where(Complaint.consumer_mobile == mobile,
                                                            Complaint.consumer_name != "")
                                    .order_by(Complaint.id.desc()).limit(10)).all()
    for complaint in complaints:
        token = secrets.token_urlsafe(24)
        complaint.token_hash = hash_token(token)
        _event(complaint, "link_resent", lifecycle.SYSTEM, staff_only=True,
               body=_("A new private link was sent to the consumer's mobile; the old link no longer works."))
        messages.queue(db.session, "sms", complaint.consumer_mobile,
                       _("Complaint %(number)s: your private link", number=complaint.tracking_number),
                       _("Your new private link for complaint %(number)s (the old one no longer works): %(link)s",
                         number=complaint.tracking_number, link=_tracking_link(complaint, token)))
    db.session.flush()
    return len(complaints)


def get_for_user(tracking_number: str, user) -> Complaint:
    """A complaint as a signed-in user may see it: staff any; a company only its own, once forwarded.

    Raises:
        NotFound (also for another company's complaint: its existence is not revealed), PermissionDenied
    """
    complaint = db.session.scalar(select(Complaint).where(Complaint.tracking_number == (tracking_number or "").strip()))
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDenied()
    if user.has_role(*STAFF_ROLES):
        if complaint is None:
            raise NotFound()
        return complaint
    if user.has_role("company"):
        if complaint is None or complaint.company_id != user.company_id or complaint.accepted_on is None:
            raise NotFound()
        return complaint
    raise PermissionDenied()


def can_see_attachment(complaint: Complaint, attachment: ComplaintAttachment, viewer) -> bool:
    """Consumer (by token) and staff see every file; the company sees them once the complaint is forwarded."""
    if attachment.complaint_id != complaint.id:
        return False
    if isinstance(viewer, ConsumerActor):
        return viewer.complaint_id == complaint.id
    if viewer.has_role(*STAFF_ROLES):
        return True
    return viewer.has_role("company") and viewer.company_id == complaint.company_id and complaint.accepted_on is not None


def visible_events(complaint: Complaint, viewer) -> list[ComplaintEvent]:
    """The log as the viewer may read it (staff notes only for staff)."""
    staff = not isinstance(viewer, ConsumerActor) and viewer.has_role(*STAFF_ROLES)
    return [e for e in complaint.events if staff or not e.staff_only]


@dataclass(frozen=True)
class ContactForCompany:
    name: str
    mobile: str
    order_number: str
    purchase_date: dt.date | None


def contact_for(complaint: Complaint, viewer) -> ContactForCompany | None:
    """What the company needs to reach the consumer and find the order; nothing before acceptance.

    The e-mail address stays with the certification body (it is only used for our notices).
    """
    if isinstance(viewer, ConsumerActor) or complaint.accepted_on is None:
        return None
    if viewer.has_role(*STAFF_ROLES) or (viewer.has_role("company") and viewer.company_id == complaint.company_id):
        return ContactForCompany(complaint.consumer_name, complaint.consumer_mobile, complaint.order_number,
                                 complaint.purchase_date)
    return None


# ---------------------------------------------------------------- moderator actions

def accept_complaint(complaint: Complaint, actor, *, note: str = "", public_summary: str | None = None,
                     expected_version: int | None = None) -> Complaint:
    """Accept and forward to the company, which now has COMPLAINT_RESPOND_WORKDAYS working days.

    Raises:
        PermissionDenied, InvalidTransition
    """
    _move(complaint, Action.ACCEPT, actor, expected_version)
    today = clock.today()
    complaint.accepted_on = today
    if public_summary is not None:
        _apply_summary(complaint, public_summary)
    _set_due(complaint)
    complaint.response_due_on = complaint.due_on
    due = due_words(complaint.due_on, today)
    _event(complaint, "accept", actor, today=today, body=note.strip(),
           public_text=_("Accepted and forwarded to the company (answer due %(day)s).", day=due))
    _bump(complaint.certificate_id, today, accepted=1)
    _notify_consumer(complaint, _("Complaint %(number)s accepted", number=complaint.tracking_number),
                     _("Your complaint was accepted and forwarded to the company. It must answer by %(day)s.", day=due))
    _notify_company(complaint.company_id, _("New complaint %(number)s", number=complaint.tracking_number),
                    _("A complaint about certificate %(cert)s was forwarded to you. Answer by %(day)s.",
                      cert=complaint.certificate.number, day=due))
    _flush_or_conflict()
    return complaint


def reject_complaint(complaint: Complaint, actor, *, reason: str, note: str = "",
                     expected_version: int | None = None) -> Complaint:
    """Reject with one of the published reasons; the consumer is told why.

    Raises:
        PermissionDenied, InvalidTransition, ValidationError
    """
    if reason not in rules.REJECTION_REASONS:
        raise ValidationError(_("Choose a reason."), fields={"reason": _("Choose a reason.")})
    _move(complaint, Action.REJECT, actor, expected_version)
    complaint.rejection_reason = reason
    complaint.due_on = None
    from registry.complaints.presenters import rejection_reason_name
    _event(complaint, "reject", actor, body=note.strip(),
           public_text=_("Not accepted: %(reason)s.", reason=rejection_reason_name(reason)))
    from registry.complaints.presenters import rejection_next_steps
    _notify_consumer(complaint, _("Complaint %(number)s not accepted", number=complaint.tracking_number),
                     _("Your complaint was not accepted: %(reason)s.", reason=rejection_reason_name(reason)) + " "
                     + rejection_next_steps(reason) + " " + _tracking_link(complaint))
    _flush_or_conflict()
    return complaint


def request_information(complaint: Complaint, actor, *, text: str, expected_version: int | None = None) -> Complaint:
    """Ask the consumer for more; before acceptance this stops the 7-day clock until they answer.

    Raises:
        PermissionDenied, InvalidTransition, ValidationError
    """
    body = _require_text(text)
    _move(complaint, Action.REQUEST_INFO, actor, expected_version)
    if complaint.state == State.AWAITING_INFO:
        complaint.due_on = None
    _event(complaint, "request_info", actor, body=body, public_text=_("The certification body asked for more information."))
    _notify_consumer(complaint, _("Complaint %(number)s: information requested", number=complaint.tracking_number),
                     _("The certification body asks: %(text)s", text=body))
    _flush_or_conflict()
    return complaint


def start_mediation(complaint: Complaint, actor, *, note: str = "", expected_version: int | None = None) -> Complaint:
    """The body mediates a disputed complaint (ends within the mediation deadline from acceptance).

    Raises:
        PermissionDenied, InvalidTransition
    """
    _move(complaint, Action.MEDIATE, actor, expected_version)
    _set_due(complaint)
    _event(complaint, "mediate", actor, body=note.strip(), public_text=_("Mediation by the certification body started."))
    _notify_consumer(complaint, _("Complaint %(number)s: mediation", number=complaint.tracking_number),
                     _("The certification body is now mediating your complaint."))
    _notify_company(complaint.company_id, _("Complaint %(number)s: mediation", number=complaint.tracking_number),
                    _("The certification body is now mediating this complaint."))
    _flush_or_conflict()
    return complaint


def _private_strings(complaint: Complaint) -> list[str]:
    national = complaint.consumer_mobile[3:] if complaint.consumer_mobile.startswith("+86") else complaint.consumer_mobile
    return [complaint.order_number, complaint.consumer_email, national]


def personal_data_in(complaint: Complaint, text: str) -> list[privacy.Finding]:
    """The personal data the detector finds in `text`, knowing this complaint's consumer."""
    return privacy.find_personal_data(text, names=[complaint.consumer_name], secrets=_private_strings(complaint))


def masked_for_company(complaint: Complaint, text: str) -> str:
    """The consumer's words as the company sees them: the contact box gives what it needs, the rest is masked."""
    return privacy.mask_personal_data(text, names=[complaint.consumer_name], secrets=_private_strings(complaint))


def publishable(complaint: Complaint, text: str) -> str:
    """`text` if the detector finds nothing in it, else "" (a stored summary from before the check is withheld)."""
    return text if text and not personal_data_in(complaint, text) else ""


def _apply_summary(complaint: Complaint, text: str) -> None:
    """Save a moderator's public summary only if the detector finds no personal data in it."""
    text = " ".join((text or "").split())
    findings = personal_data_in(complaint, text)
    if findings:
        message = _("The public summary still contains personal data: %(found)s. Remove it and save again.",
                    found=privacy.describe(findings))
        raise ValidationError(message, fields={"public_summary": message})
    complaint.public_summary = rules.summary(text, 280)


def redact_complaint(complaint: Complaint, actor, *, public_summary: str, expected_version: int | None = None) -> Complaint:
    """Rewrite (or clear) the moderator's public summary; the detector checks it before it is saved.

    Raises:
        PermissionDenied, InvalidTransition, ValidationError
    """
    _transition(complaint, Action.REDACT, actor, expected_version)
    _apply_summary(complaint, public_summary)
    _event(complaint, "redact", actor, staff_only=True, body=_("Public summary edited."))
    _flush_or_conflict()
    return complaint


def consumer_choice_until(complaint: Complaint) -> dt.date | None:
    """The last day the consumer has to accept or dispute the company's latest answer (None when not waiting).

    COMPLAINT_CONSUMER_CHOICE_WORKDAYS working days from the answer; counted on the calendar each time,
    so an entered holiday schedule moves it at once.
    """
    workdays = int(current_app.config["COMPLAINT_CONSUMER_CHOICE_WORKDAYS"])
    if complaint.state != State.RESPONDED or workdays <= 0:
        return None
    answered = [e.on for e in complaint.events if e.action == "respond"]
    if not answered:
        return None
    return rules.add_workdays(max(answered), workdays, calendar.is_workday)


def close_complaint(complaint: Complaint, actor, *, outcome: str, severity: str | None, public_summary: str | None,
                    note: str = "", early_reason: str = "", expected_version: int | None = None) -> SanctionProposal | None:
    """Close with an outcome; write it to the ledger; run the sanction rules (may create a proposal).

    While the consumer still has time to accept or dispute the company's answer, closing needs a reason,
    which the consumer sees in the log.

    Raises:
        PermissionDenied, InvalidTransition, ValidationError
    """
    choice_until = consumer_choice_until(complaint)
    early_reason = (early_reason or "").strip()
    if choice_until is not None and clock.today() <= choice_until and len(early_reason) < 2:
        message = _("The consumer has until %(day)s to accept or dispute the answer. To close earlier, give a reason "
                    "the consumer will see.", day=due_words(choice_until))
        raise ValidationError(message, fields={"early_reason": message})
    try:
        outcome_value = rules.outcome_for(Action.CLOSE, outcome)
    except ValueError:
        raise ValidationError(_("Choose an outcome."), fields={"outcome": _("Choose an outcome.")}) from None
    if outcome_value in (Outcome.UPHELD, Outcome.PARTIALLY_UPHELD):
        if severity not in {s.value for s in rules.Severity}:
            raise ValidationError(_("An upheld complaint needs a severity."), fields={"severity": _("Choose a severity.")})
    else:
        severity = None
    _move(complaint, Action.CLOSE, actor, expected_version)
    if public_summary is not None and public_summary.strip():
        _apply_summary(complaint, public_summary)
    complaint.severity = severity
    if choice_until is not None and clock.today() <= choice_until:
        _event(complaint, "closed_early", actor, body=_("Closed before your time to reply ended, because: %(reason)s",
                                                        reason=early_reason))
    _finish(complaint, outcome_value, actor, note=note)
    complaint.closed_by_id = getattr(actor, "id", None)
    _flush_or_conflict()
    return evaluate_sanctions(complaint.certificate, proposed_by=actor)


def _finish(complaint: Complaint, outcome: Outcome, actor, *, note: str = "") -> None:
    """Common end of a complaint: outcome, counters, event, ledger entry, notices."""
    from registry.complaints.presenters import category_name, outcome_name
    today = clock.today()
    # A complaint that ends while the company still owes its first answer counts as unanswered if late.
    _settle_response_deadline(complaint, today)
    complaint.outcome = outcome.value
    complaint.closed_on = today
    complaint.due_on = None
    counts = {}
    if outcome is not Outcome.WITHDRAWN:
        counts["closed"] = 1
    if outcome is Outcome.RESOLVED:
        counts["resolved"] = 1
    if outcome in (Outcome.UPHELD, Outcome.PARTIALLY_UPHELD):
        counts["upheld"] = 1
    if counts:
        _bump(complaint.certificate_id, today, **counts)
    public = _("Complaint %(number)s (%(category)s) closed: %(outcome)s.", number=complaint.tracking_number,
               category=category_name(complaint.category), outcome=outcome_name(outcome.value))
    _event(complaint, "close" if outcome is not Outcome.WITHDRAWN else "withdraw", actor, body=note.strip(),
           public_text=public, today=today)
    role = "system" if actor is lifecycle.SYSTEM else actor_role(actor).value
    lifecycle.record_event(complaint.certificate, "complaint_outcome", actor_role=role,
                           message=_outcome_message(complaint, outcome),
                           extra={"complaint": complaint.tracking_number, "outcome": outcome.value,
                                  "category": complaint.category, "severity": complaint.severity,
                                  "unanswered": complaint.unanswered})
    _notify_consumer(complaint, _("Complaint %(number)s closed", number=complaint.tracking_number), public)
    if complaint.accepted_on is not None:
        _notify_company(complaint.company_id, _("Complaint %(number)s closed", number=complaint.tracking_number), public)


def _outcome_message(complaint: Complaint, outcome: Outcome) -> LedgerMessage:
    """The ledger's language-neutral form of the public closing text."""
    from registry.complaints.presenters import CATEGORY_NAMES, OUTCOME_NAMES
    def term(table, key):
        return LedgerMessage(msgid(table[key])) if key in table else key
    return LedgerMessage(N_("Complaint %(number)s (%(category)s) closed: %(outcome)s."),
                         number=complaint.tracking_number, category=term(CATEGORY_NAMES, complaint.category),
                         outcome=term(OUTCOME_NAMES, outcome.value))


def _settle_response_deadline(complaint: Complaint, today: dt.date, *, confirmed: bool = False) -> None:
    """Mark "unanswered" once when the company's deadline passed without its first answer.

    On a provisional deadline (a year whose holidays are unknown) the mark waits for a moderator's
    confirmation (`confirm_unanswered`): the weekends-only count may have passed a day that is a holiday.
    """
    if response_deadline_is_provisional(complaint) and not confirmed:
        return
    if (complaint.accepted_on is not None and complaint.first_response_on is None and not complaint.unanswered
            and rules.is_overdue(complaint.response_due_on, today)):
        complaint.unanswered = True
        _bump(complaint.certificate_id, complaint.response_due_on, unanswered=1)
        db.session.add(ComplaintEvent(complaint=complaint, on=today, actor_role="system", action="unanswered",
                                      state_after=complaint.state,
                                      public_text=_("The company did not answer by %(day)s (marked unanswered).",
                                                    day=complaint.response_due_on.isoformat())))


# ---------------------------------------------------------------- company actions

def respond_to_complaint(complaint: Complaint, actor, *, text: str, proposal: str = "",
                         files: list[uploads.CheckedFile] | None = None,
                         expected_version: int | None = None) -> Complaint:
    """The company answers (and may propose a resolution and attach evidence).

    Raises:
        PermissionDenied, InvalidTransition, ValidationError
    """
    if not actor.has_role("company") or actor.company_id != complaint.company_id:
        raise PermissionDenied(_("Only the certified company may answer this complaint."))
    body = _require_text(text)
    today = clock.today()
    _move(complaint, Action.RESPOND, actor, expected_version)
    if complaint.first_response_on is None:
        if rules.response_on_time(complaint.response_due_on, today):
            _bump(complaint.certificate_id, today, answered_on_time=1)
        else:
            _settle_response_deadline(complaint, today)
            _bump(complaint.certificate_id, today, answered_late=1)
        complaint.first_response_on = today
    if proposal.strip():
        body = body + "\n\n" + _("Proposed resolution:") + " " + proposal.strip()
    _set_due(complaint)
    event = _event(complaint, "respond", actor, body=body, today=today, public_text=_("The company answered."))
    _attach(complaint, files or [], "company", event)
    _notify_consumer(complaint, _("Complaint %(number)s: the company answered", number=complaint.tracking_number),
                     _("The company answered your complaint. Read it and accept or dispute it: %(link)s",
                       link=_tracking_link(complaint)))
    _flush_or_conflict()
    return complaint


# ---------------------------------------------------------------- consumer actions

def add_information(complaint: Complaint, actor: ConsumerActor, *, text: str,
                    files: list[uploads.CheckedFile] | None = None, expected_version: int | None = None) -> Complaint:
    """The consumer adds information; if the body had asked for it, its 7-day clock starts again.

    Raises:
        PermissionDenied, InvalidTransition, ValidationError
    """
    _own(complaint, actor)
    body = _require_text(text)
    before = complaint.state
    _move(complaint, Action.ADD_INFO, actor, expected_version)
    if before == State.AWAITING_INFO:
        complaint.clock_started_on = clock.today()
        _set_due(complaint)
    event = _event(complaint, "add_info", actor, body=body, public_text=_("The consumer added information."))
    _attach(complaint, files or [], "consumer", event)
    _flush_or_conflict()
    return complaint


def consumer_accepts(complaint: Complaint, actor: ConsumerActor, *, comment: str = "",
                     expected_version: int | None = None) -> Complaint:
    """The consumer accepts the company's answer: closed as resolved by the company.

    Raises:
        PermissionDenied, InvalidTransition
    """
    _own(complaint, actor)
    _move(complaint, Action.CONSUMER_ACCEPT, actor, expected_version)
    _finish(complaint, Outcome.RESOLVED, actor, note=comment)
    _flush_or_conflict()
    return complaint


def dispute_complaint(complaint: Complaint, actor: ConsumerActor, *, comment: str,
                      expected_version: int | None = None) -> Complaint:
    """The consumer disputes the company's answer; the body will mediate.

    Raises:
        PermissionDenied, InvalidTransition, ValidationError
    """
    _own(complaint, actor)
    body = _require_text(comment, "text")
    _move(complaint, Action.DISPUTE, actor, expected_version)
    _set_due(complaint)
    _event(complaint, "dispute", actor, body=body, public_text=_("The consumer disputed the company's answer."))
    _notify_company(complaint.company_id, _("Complaint %(number)s disputed", number=complaint.tracking_number),
                    _("The consumer disputed your answer; the certification body will mediate."))
    _flush_or_conflict()
    return complaint


def withdraw_complaint(complaint: Complaint, actor: ConsumerActor, *, comment: str = "",
                       expected_version: int | None = None) -> Complaint:
    """The consumer withdraws; closed as withdrawn (no weight in the sanction rules).

    Raises:
        PermissionDenied, InvalidTransition
    """
    _own(complaint, actor)
    _move(complaint, Action.WITHDRAW, actor, expected_version)
    _finish(complaint, Outcome.WITHDRAWN, actor, note=comment)
    _flush_or_conflict()
    return complaint


def _own(complaint: Complaint, actor) -> None:
    if not isinstance(actor, ConsumerActor) or actor.complaint_id != complaint.id:
        raise PermissionDenied(_("Only the person who filed this complaint may do this."))


# ---------------------------------------------------------------- lists

QUEUE_SORTS = ("deadline", "oldest", "newest")


@dataclass
class QueueFilters:
    state: str = ""
    overdue: bool = False
    certificate: str = ""
    company: str = ""          # part of the company's name
    category: str = ""
    min_age_days: int | None = None
    sort: str = "deadline"

    @classmethod
    def from_args(cls, args) -> QueueFilters:
        state = args.get("state", "")
        category = args.get("category", "")
        try:
            age = int(args.get("min_age") or "")
        except ValueError:
            age = None
        sort = args.get("sort", "deadline")
        return cls(state=state if state in {s.value for s in State} else "",
                   overdue=args.get("overdue") in ("1", "on", "true"),
                   certificate=(args.get("certificate") or "").strip()[:40],
                   company=(args.get("company") or "").strip()[:100],
                   category=category if category in current_app.config["COMPLAINT_CATEGORIES"] else "",
                   min_age_days=age if age is not None and 0 <= age <= 3650 else None,
                   sort=sort if sort in QUEUE_SORTS else "deadline")

    def args(self) -> dict:
        """The filters as query arguments (pagination links keep them)."""
        return {"state": self.state, "certificate": self.certificate, "overdue": "1" if self.overdue else "",
                "company": self.company, "category": self.category,
                "min_age": "" if self.min_age_days is None else str(self.min_age_days), "sort": self.sort}


def moderation_queue(filters: QueueFilters, page: int, per_page: int = 30):
    """The moderators' list: open complaints by deadline (or age); filters by state, overdue, certificate,
    company, category and age."""
    from registry.certificates.models import Company
    query = select(Complaint)
    today = clock.today()
    if filters.state:
        query = query.where(Complaint.state == filters.state)
    else:
        query = query.where(Complaint.state.in_([s.value for s in rules.OPEN_STATES]))
    if filters.overdue:
        query = query.where(Complaint.due_on < today)
    if filters.certificate:
        query = query.join(Complaint.certificate).where(func.upper(Certificate.number) == filters.certificate.upper())
    if filters.company:
        escaped = filters.company.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Complaint.company_id.in_(select(Company.id).where(Company.name.like(f"%{escaped}%", escape="\\"))))
    if filters.category:
        query = query.where(Complaint.category == filters.category)
    if filters.min_age_days is not None:
        query = query.where(Complaint.filed_on <= today - dt.timedelta(days=filters.min_age_days))
    if filters.sort == "oldest":
        query = query.order_by(Complaint.filed_on, Complaint.id)
    elif filters.sort == "newest":
        query = query.order_by(Complaint.filed_on.desc(), Complaint.id.desc())
    else:
        query = query.order_by(Complaint.due_on.is_(None), Complaint.due_on, Complaint.id)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def company_complaints(user, page: int, per_page: int = 30, state: str = ""):
    """A company's forwarded complaints, never another company's.

    Raises:
        PermissionDenied
    """
    if not user.has_role("company") or user.company_id is None:
        raise PermissionDenied()
    query = select(Complaint).where(Complaint.company_id == user.company_id, Complaint.accepted_on.is_not(None))
    if state in {s.value for s in State}:
        query = query.where(Complaint.state == state)
    query = query.order_by(Complaint.due_on.is_(None), Complaint.due_on, Complaint.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


# ---------------------------------------------------------------- overdue

@dataclass
class OverdueReport:
    overdue: int = 0
    newly_unanswered: int = 0
    deadlines_recomputed: int = 0
    awaiting_confirmation: int = 0    # missed on a provisional deadline: a moderator confirms or waits


def mark_overdue(today: dt.date | None = None) -> OverdueReport:
    """Daily: mark companies' missed deadlines "unanswered", count overdue items, refresh provisional deadlines.

    A deadline still provisional (its year's holidays unknown) is never marked by this job: it is counted
    in `awaiting_confirmation` and a moderator confirms the mark on the case page. Called by `flask
    complaints overdue` and the daily tick (safe to run any number of times a day).
    """
    today = today or clock.today()
    report = OverdueReport()
    report.deadlines_recomputed = recompute_deadlines(None, today=today, provisional_only=True).deadlines_changed
    missed = db.session.scalars(select(Complaint).where(Complaint.accepted_on.is_not(None),
                                                        Complaint.first_response_on.is_(None),
                                                        Complaint.unanswered.is_(False),
                                                        Complaint.response_due_on < today)).all()
    for complaint in missed:
        if response_deadline_is_provisional(complaint):
            report.awaiting_confirmation += 1
            continue
        _settle_response_deadline(complaint, today)
        report.newly_unanswered += 1
        _notify_company(complaint.company_id, _("Complaint %(number)s unanswered", number=complaint.tracking_number),
                        _("You did not answer by %(day)s; the complaint is marked unanswered on the public record.",
                          day=complaint.response_due_on.isoformat()))
    report.overdue = db.session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.state.in_([s.value for s in rules.OPEN_STATES]), Complaint.due_on < today)) or 0
    db.session.flush()
    return report


def confirm_unanswered(complaint: Complaint, actor, *, expected_version: int | None = None) -> Complaint:
    """A moderator confirms the "unanswered" mark on a provisional deadline the company missed.

    Raises:
        PermissionDenied, InvalidTransition
    """
    if actor_role(actor) is not ActorRole.MODERATOR:
        raise PermissionDenied(_("You may not take this action on this complaint."))
    _check_version(complaint, expected_version)
    today = clock.today()
    if (complaint.accepted_on is None or complaint.first_response_on is not None or complaint.unanswered
            or not rules.is_overdue(complaint.response_due_on, today)):
        raise InvalidTransition(_("The company's answer is not overdue; there is nothing to confirm."))
    _settle_response_deadline(complaint, today, confirmed=True)
    _flush_or_conflict()
    return complaint


def can_confirm_unanswered(complaint: Complaint, viewer) -> bool:
    """Whether the case page offers the moderator to confirm a mark the tick left for them."""
    return (not isinstance(viewer, ConsumerActor) and viewer.has_role(*MODERATING_ROLES)
            and complaint.accepted_on is not None and complaint.first_response_on is None and not complaint.unanswered
            and rules.is_overdue(complaint.response_due_on, clock.today()) and response_deadline_is_provisional(complaint))


@dataclass
class RecomputeReport:
    deadlines_changed: int = 0
    unanswered_lifted: int = 0
    sanction_dates_changed: int = 0
    complaints: list[str] = field(default_factory=list)


def recompute_deadlines(years, today: dt.date | None = None, *, provisional_only: bool = False) -> RecomputeReport:
    """After a holiday schedule is entered or changed: recompute every open deadline, lift wrong marks.

    Acceptance, company answer and mediation deadlines of open complaints are counted again; each change
    is an event the consumer and the company see. An "unanswered" mark set on a day that turns out not
    to be past the company's deadline is lifted, its counters corrected, and, for a closed complaint
    whose outcome the public saw in the ledger, a ledger entry records the correction. Open sanction
    proposals get their reply date recounted. `years` is informational (every open deadline is checked).
    """
    today = today or clock.today()
    report = RecomputeReport()
    open_states = [s.value for s in rules.OPEN_STATES]
    query = select(Complaint).where(Complaint.state.in_(open_states))
    if provisional_only:
        query = query.where(Complaint.due_estimated.is_(True))
    for complaint in db.session.scalars(query.order_by(Complaint.id)).all():
        before, before_response = complaint.due_on, complaint.response_due_on
        _set_due(complaint)
        if complaint.accepted_on is not None and not complaint.unanswered:   # marked ones: _lift_wrong_unanswered
            complaint.response_due_on = _response_due(complaint)
            _move_late_answer_on_time(complaint, before_response)
        if before != complaint.due_on and before is not None and complaint.due_on is not None:
            report.deadlines_changed += 1
            report.complaints.append(complaint.tracking_number)
            text = _("Deadline changed from %(old)s to %(new)s: the holiday schedule was published.",
                     old=before.isoformat(), new=due_words(complaint.due_on, complaint.accepted_on or complaint.clock_started_on))
            _event(complaint, "deadline_changed", lifecycle.SYSTEM, public_text=text, today=today)
            _notify_consumer(complaint, _("Complaint %(number)s: deadline changed", number=complaint.tracking_number), text)
            if complaint.accepted_on is not None:
                _notify_company(complaint.company_id, _("Complaint %(number)s: deadline changed",
                                                        number=complaint.tracking_number), text)
        elif before_response != complaint.response_due_on and before_response is not None:
            report.deadlines_changed += 1
    if not provisional_only:
        report.unanswered_lifted = _lift_wrong_unanswered(today)
        report.sanction_dates_changed = _recount_sanction_reply_dates()
    db.session.flush()
    return report


def _recount_late_answers() -> None:
    """An answer counted late against a weekends-only deadline may turn out on time: move the counter."""
    late = db.session.scalars(select(Complaint).where(Complaint.unanswered.is_(False),
                                                      Complaint.first_response_on.is_not(None),
                                                      Complaint.response_due_on.is_not(None),
                                                      Complaint.first_response_on > Complaint.response_due_on)).all()
    for complaint in late:
        old_due = complaint.response_due_on
        complaint.response_due_on = _response_due(complaint)
        _move_late_answer_on_time(complaint, old_due)


def _move_late_answer_on_time(complaint: Complaint, old_due: dt.date | None) -> None:
    answered, new_due = complaint.first_response_on, complaint.response_due_on
    if (answered is not None and not complaint.unanswered and old_due is not None and new_due is not None
            and old_due < answered <= new_due):
        _bump(complaint.certificate_id, answered, answered_late=-1, answered_on_time=1)


def _lift_wrong_unanswered(today: dt.date) -> int:
    _recount_late_answers()
    lifted = 0
    marked = db.session.scalars(select(Complaint).where(Complaint.unanswered.is_(True),
                                                        Complaint.accepted_on.is_not(None))).all()
    for complaint in marked:
        old_due = complaint.response_due_on
        new_due = _response_due(complaint)
        end = complaint.first_response_on or complaint.closed_on or today
        if not (end <= new_due):
            complaint.response_due_on = new_due
            continue
        complaint.unanswered = False
        complaint.response_due_on = new_due
        _bump(complaint.certificate_id, old_due or new_due, unanswered=-1)
        if complaint.first_response_on is not None:
            _bump(complaint.certificate_id, complaint.first_response_on, answered_late=-1, answered_on_time=1)
        text = _("The \"unanswered\" mark was lifted: with the published holiday schedule the company's deadline was %(day)s.",
                 day=new_due.isoformat())
        db.session.add(ComplaintEvent(complaint=complaint, on=today, actor_role="system", action="unanswered_lifted",
                                      state_after=complaint.state, public_text=text))
        if complaint.state == State.CLOSED and complaint.outcome != Outcome.WITHDRAWN:
            lifecycle.record_event(complaint.certificate, "complaint_outcome", actor_role="system",
                                   public_text=_("Complaint %(number)s corrected: %(text)s", number=complaint.tracking_number,
                                                 text=text),
                                   extra={"complaint": complaint.tracking_number, "outcome": complaint.outcome,
                                          "category": complaint.category, "severity": complaint.severity,
                                          "unanswered": False, "correction": "unanswered_lifted"})
        _notify_company(complaint.company_id, _("Complaint %(number)s: unanswered mark lifted",
                                                number=complaint.tracking_number), text)
        lifted += 1
    return lifted


def _recount_sanction_reply_dates() -> int:
    """Hearing windows of open proposals and decision deadlines of pending appeals, on the calendar as it is now."""
    changed = 0
    policy = hearing_policy()
    for proposal in db.session.scalars(select(SanctionProposal).where(SanctionProposal.state == "proposed")).all():
        respond_by = rules.respond_by(policy, proposal.proposed_on, critical=proposal.rule_id == "critical",
                                      is_workday=calendar.is_workday)
        if respond_by != proposal.respond_by:
            proposal.respond_by = respond_by
            changed += 1
    for proposal in db.session.scalars(select(SanctionProposal).where(SanctionProposal.state == "appealed",
                                                                      SanctionProposal.appealed_on.is_not(None))).all():
        decide_by = rules.appeal_decide_by(policy, proposal.appealed_on, calendar.is_workday)
        if decide_by != proposal.appeal_decide_by:
            proposal.appeal_decide_by = decide_by
            changed += 1
    return changed


# ---------------------------------------------------------------- public statistics

@dataclass(frozen=True)
class PublicStats:
    received: int
    accepted: int
    answered_on_time_pct: int | None
    resolved_pct: int | None
    upheld: int
    unanswered: int
    since: dt.date


def certificate_stats(certificate_id: int, today: dt.date | None = None) -> PublicStats:
    """Last 12 months (this month and the 11 before) from the monthly counters: at most 12 rows read."""
    today = today or clock.today()
    since = rules.months_back(today, 11)
    t = ComplaintMonthlyStat
    row = db.session.execute(
        select(func.coalesce(func.sum(t.received), 0), func.coalesce(func.sum(t.accepted), 0),
               func.coalesce(func.sum(t.answered_on_time), 0), func.coalesce(func.sum(t.unanswered), 0),
               func.coalesce(func.sum(t.closed), 0), func.coalesce(func.sum(t.resolved), 0),
               func.coalesce(func.sum(t.upheld), 0))
        .where(t.certificate_id == certificate_id, t.month >= since)
    ).one()
    received, accepted, on_time, unanswered, closed, resolved, upheld = (int(v) for v in row)
    return PublicStats(received=received, accepted=accepted,
                       answered_on_time_pct=rules.percent(on_time, on_time + unanswered),
                       resolved_pct=rules.percent(resolved, closed), upheld=upheld, unanswered=unanswered, since=since)


@dataclass(frozen=True)
class PublicSummary:
    """A closed complaint as the public sees it: structured facts, and a moderator's checked summary if any."""
    tracking_number: str
    closed_on: dt.date
    category: str
    outcome: str
    unanswered: bool
    text: str                      # the moderator's summary, or "" (never the consumer's own words)
    desired_resolution: str = ""
    filed_on: dt.date | None = None
    accepted_on: dt.date | None = None
    first_response_on: dt.date | None = None


def _public_summary_of(complaint: Complaint) -> PublicSummary:
    return PublicSummary(complaint.tracking_number, complaint.closed_on, complaint.category, complaint.outcome,
                         complaint.unanswered, publishable(complaint, complaint.public_summary),
                         complaint.desired_resolution, complaint.filed_on, complaint.accepted_on,
                         complaint.first_response_on)


def public_summaries(certificate_id: int, today: dt.date | None = None, limit: int = 10) -> list[PublicSummary]:
    """The latest closed complaints of the last 12 months (uses the (certificate, closed_on) index).

    Each carries its structured facts; a moderator's summary appears only while the detector passes it.
    """
    today = today or clock.today()
    complaints = db.session.scalars(
        select(Complaint)
        .where(Complaint.certificate_id == certificate_id, Complaint.closed_on >= rules.months_back(today, 11),
               Complaint.state == State.CLOSED.value, Complaint.outcome != Outcome.WITHDRAWN.value)
        .order_by(Complaint.closed_on.desc(), Complaint.id.desc()).limit(limit)
    ).all()
    return [_public_summary_of(c) for c in complaints]


def public_log(tracking_number: str) -> tuple[PublicSummary, list[ComplaintEvent]]:
    """A closed complaint as the public may see it: the structured summary and each step's public text.

    Raises:
        NotFound: no such complaint, or it is not closed (open and withdrawn complaints are not public).
    """
    complaint = db.session.scalar(select(Complaint).where(Complaint.tracking_number == (tracking_number or "").strip()))
    if complaint is None or complaint.state != State.CLOSED or complaint.outcome == Outcome.WITHDRAWN:
        raise NotFound()
    return _public_summary_of(complaint), [e for e in complaint.events if e.public_text and not e.staff_only]


def purge_personal_data(today: dt.date | None = None) -> int:
    """Erase the consumer's personal data from complaints closed more than COMPLAINT_RETENTION_YEARS ago.

    Keeps what the statistics, the ledger and the public summary need (PIPL Art 19/47: no longer than
    the purpose requires). Returns the number of complaints purged. Run by `flask complaints purge`.
    """
    from registry.certificates.rules import add_years
    today = today or clock.today()
    cutoff = add_years(today, -int(current_app.config["COMPLAINT_RETENTION_YEARS"]))
    purged = 0
    for complaint in db.session.scalars(select(Complaint).where(
            Complaint.closed_on.is_not(None), Complaint.closed_on < cutoff, Complaint.consumer_name != "")):
        complaint.consumer_name = ""
        complaint.consumer_mobile = ""
        complaint.consumer_email = ""
        complaint.order_number = ""
        complaint.description = complaint.public_summary
        for event in complaint.events:
            event.body = ""
        for attachment in list(complaint.attachments):
            path = uploads.path_of(current_app.config["UPLOAD_DIR"], attachment.stored_name)
            if os.path.exists(path):
                os.remove(path)
            db.session.delete(attachment)
        purged += 1
    db.session.flush()
    return purged


def open_complaint_count(certificate_id: int) -> int:
    """Open complaints about a certificate (for procurement checks)."""
    return open_complaint_counts([certificate_id]).get(certificate_id, 0)


def open_complaint_counts(certificate_ids: list[int]) -> dict[int, int]:
    """Open complaints per certificate, one grouped query for a whole bulk check (absent ids have none)."""
    if not certificate_ids:
        return {}
    rows = db.session.execute(
        select(Complaint.certificate_id, func.count()).where(
            Complaint.certificate_id.in_(set(certificate_ids)),
            Complaint.state.in_([s.value for s in rules.OPEN_STATES]))
        .group_by(Complaint.certificate_id)).all()
    return {certificate_id: count for certificate_id, count in rows}


# ---------------------------------------------------------------- sanctions
# Due process (issue 10 item 3): every proposal leaves the company a hearing window (a critical one a
# shorter one, never none); an officer may suspend provisionally meanwhile, by an explicit decision; an
# appeal must be decided within SANCTION_APPEAL_DECIDE_WORKDAYS and holds a suspension open meanwhile;
# an upheld appeal undoes exactly what the sanction changed unless a later decision replaced it.

def _facts_for(certificate: Certificate, exclude: set[int]) -> list[rules.ComplaintFacts]:
    policy = sanction_policy()
    today = clock.today()
    since = rules.same_day_months_before(today, policy.window_months)
    rows = db.session.execute(
        select(Complaint.id, Complaint.closed_on, Complaint.outcome, Complaint.severity, Complaint.unanswered)
        .where(Complaint.certificate_id == certificate.id, Complaint.state == State.CLOSED.value,
               Complaint.closed_on > since, Complaint.outcome.in_([Outcome.UPHELD.value, Outcome.PARTIALLY_UPHELD.value]))
    ).all()
    return [rules.ComplaintFacts(*row) for row in rows if row[0] not in exclude]


def evaluate_sanctions(certificate: Certificate, proposed_by=None) -> SanctionProposal | None:
    """Run the published rules for a certificate; create (or strengthen) a proposal if a threshold is crossed.

    Complaints already counted by a decided proposal (confirmed, rejected, appealed either way) do not
    count again; an open proposal is replaced only by a heavier one, so closing more complaints never
    stacks duplicate proposals. Every proposal leaves the company a hearing window in working days.
    """
    policy = sanction_policy()
    today = clock.today()
    proposals = db.session.scalars(select(SanctionProposal).where(SanctionProposal.certificate_id == certificate.id)).all()
    used = {cid for p in proposals if p.state in rules.DECIDED_PROPOSAL_STATES for cid in p.complaint_ids}
    decision = rules.evaluate(policy, _facts_for(certificate, used), today)
    if decision is None:
        return None
    action = decision.action
    level_ids = [lvl.id for lvl in certificate.scheme.levels]
    if action is rules.SanctionAction.LOWER_LEVEL and rules.lower_level_id(level_ids, certificate.level) is None:
        action = rules.SanctionAction.SUSPEND  # nothing lower on the ladder: the next step is suspension
    pending = [p for p in proposals if p.state == "proposed"]
    if any(not rules.stronger(action, p.action) for p in pending):
        return None
    for p in pending:
        p.state = "superseded"
    numbers = list(db.session.scalars(select(Complaint.tracking_number).where(Complaint.id.in_(decision.complaint_ids))
                                      .order_by(Complaint.id)))
    critical = decision.rule_id == "critical"
    proposal = SanctionProposal(
        certificate_id=certificate.id, company_id=certificate.company_id, action=action.value,
        rule_id=decision.rule_id, policy_version=policy.version, points=decision.points,
        complaint_ids=list(decision.complaint_ids), tracking_numbers=numbers, state="proposed", proposed_on=today,
        respond_by=rules.respond_by(hearing_policy(), today, critical=critical, is_workday=calendar.is_workday),
        proposed_by_id=getattr(proposed_by, "id", None), level_before=certificate.level)
    db.session.add(proposal)
    db.session.flush()
    from registry.complaints.presenters import sanction_action_name
    _notify_company(certificate.company_id, _("Sanction proposed for certificate %(cert)s", cert=certificate.number),
                    _("Under the published rules (%(rule)s), %(action)s is proposed after complaints %(complaints)s. "
                      "You may respond until %(day)s.", rule=decision.rule_id, action=sanction_action_name(action.value),
                      complaints=", ".join(numbers), day=proposal.respond_by.isoformat()))
    return proposal


def get_proposal(proposal_id: int, user) -> SanctionProposal:
    """A proposal as the user may see it: staff any, a company only its own.

    Raises:
        NotFound, PermissionDenied
    """
    proposal = db.session.get(SanctionProposal, proposal_id)
    if user.has_role(*STAFF_ROLES):
        if proposal is None:
            raise NotFound()
        return proposal
    if user.has_role("company"):
        if proposal is None or proposal.company_id != user.company_id:
            raise NotFound()
        return proposal
    raise PermissionDenied()


def respond_to_sanction(proposal: SanctionProposal, user, *, text: str) -> SanctionProposal:
    """The company states its case before an officer decides.

    Raises:
        PermissionDenied, InvalidTransition, ValidationError
    """
    if not user.has_role("company") or user.company_id != proposal.company_id:
        raise PermissionDenied()
    if proposal.state != "proposed":
        raise InvalidTransition(_("This proposal has already been decided."))
    proposal.company_response = _require_text(text)
    _flush_or_conflict()
    return proposal


def can_decide_now(proposal: SanctionProposal, today: dt.date | None = None) -> bool:
    """An officer decides once the company has answered or its hearing window has passed (critical ones too:
    their window is shorter, not absent; a provisional suspension covers the urgency meanwhile)."""
    today = today or clock.today()
    return bool(proposal.company_response) or today > proposal.respond_by


def can_suspend_provisionally(proposal: SanctionProposal) -> bool:
    """A pending proposal of suspension may be made effective provisionally, once, while the company is heard."""
    return (proposal.state == "proposed" and proposal.action == rules.SanctionAction.SUSPEND
            and proposal.provisional_on is None)


def is_appeal_overdue(proposal: SanctionProposal, today: dt.date | None = None) -> bool:
    """An appeal still undecided after its last working day (shown to everyone as overdue)."""
    return (proposal.state == "appealed" and proposal.appeal_decide_by is not None
            and rules.is_overdue(proposal.appeal_decide_by, today or clock.today()))


def _refuse_closing_moderator(proposal: SanctionProposal, officer) -> None:
    if proposal.proposed_by_id is not None and getattr(officer, "id", None) == proposal.proposed_by_id:
        raise PermissionDenied(_("The person who closed the complaint may not decide its sanction."))


def suspend_provisionally(proposal: SanctionProposal, officer, *, reason: str,
                          expected_version: int | None = None) -> SanctionProposal:
    """An officer's explicit decision to suspend at once while the company is still heard (e.g. a safety risk).

    The suspension has no end date until the proposal is decided: confirmed, it becomes the sanction's
    suspension; rejected, it is lifted. The public history says it is provisional.

    Raises:
        PermissionDenied, InvalidTransition, ValidationError
    """
    lifecycle.require_deciding_role(officer)
    reason = lifecycle.require_reason(reason)
    _check_version(proposal, expected_version)
    if not can_suspend_provisionally(proposal):
        raise InvalidTransition(_("Only a pending proposal of suspension can be made effective provisionally, once."))
    _refuse_closing_moderator(proposal, officer)
    proposal.provisional_on = clock.today()
    _flush_or_conflict()
    entry = lifecycle.suspend_provisionally(
        proposal.certificate, reason=reason, actor=officer, extra={"proposal": proposal.id},
        message=LedgerMessage(N_("Provisionally suspended by an officer's decision while the company is heard on sanction proposal "
            "#%(id)s (%(words)s). This is not yet the sanction: the company may respond until %(day)s."),
            id=proposal.id, words=_sanction_words(proposal), day=proposal.respond_by.isoformat()))
    proposal.applied_seq = entry.seq
    _notify_company(proposal.company_id, _("Certificate %(cert)s provisionally suspended", cert=proposal.certificate.number),
                    _("An officer suspended the certificate provisionally until the decision on the proposal. "
                      "You may still respond until %(day)s.", day=proposal.respond_by.isoformat()) + " " + reason)
    db.session.flush()
    return proposal


def decide_sanction(proposal: SanctionProposal, officer, *, confirm: bool, reason: str,
                    expected_version: int | None = None) -> SanctionProposal:
    """An officer other than the closing moderator confirms (the sanction applies now) or rejects it.

    Raises:
        PermissionDenied, InvalidTransition, ValidationError
    """
    lifecycle.require_deciding_role(officer)
    reason = lifecycle.require_reason(reason)
    _check_version(proposal, expected_version)
    if proposal.state != "proposed":
        raise InvalidTransition(_("This proposal has already been decided."))
    _refuse_closing_moderator(proposal, officer)
    if not can_decide_now(proposal):
        raise InvalidTransition(_("The company may respond until %(day)s; decide after that or once it has answered.",
                                  day=proposal.respond_by.isoformat()))
    proposal.decided_by_id = getattr(officer, "id", None)
    proposal.decision_reason = reason
    proposal.decided_on = clock.today()
    proposal.state = "confirmed" if confirm else "rejected"
    _flush_or_conflict()   # the version bump here is what lets only one of two officers through
    if confirm:
        _apply_sanction(proposal, officer)
    elif proposal.provisional_on is not None:
        _end_provisional_suspension(proposal, officer, reason)
    from registry.complaints.presenters import sanction_action_name
    _notify_company(proposal.company_id, _("Sanction decision for certificate %(cert)s", cert=proposal.certificate.number),
                    (_("Confirmed: %(action)s.", action=sanction_action_name(proposal.action)) if confirm
                     else _("Rejected: no sanction.")) + " " + reason)
    db.session.flush()
    # Complaints closed while this proposal was pending (and not heavier) were counted by nobody: now that
    # its own complaints are spent, the rest are weighed again at once rather than at the next closing.
    evaluate_sanctions(proposal.certificate)
    return proposal


def _sanction_words(proposal: SanctionProposal) -> LedgerMessage:
    return LedgerMessage(N_("sanction rule %(rule)s (rules %(version)s), complaints %(complaints)s"),
                         rule=proposal.rule_id, version=proposal.policy_version,
                         complaints=", ".join(proposal.tracking_numbers))


def _extra(proposal: SanctionProposal) -> dict:
    return {"sanction_rule": proposal.rule_id, "policy_version": proposal.policy_version,
            "complaints": proposal.tracking_numbers, "proposal": proposal.id}


def _later_decision(proposal: SanctionProposal) -> rules.LaterEntry | None:
    """The first ledger entry after the sanction (or provisional suspension) that replaced what it changed."""
    if proposal.applied_seq is None:
        return None
    rows = db.session.execute(
        select(LedgerEntry.kind, LedgerEntry.effective_on, LedgerEntry.data)
        .where(LedgerEntry.certificate_number == proposal.certificate.number, LedgerEntry.seq > proposal.applied_seq)
        .order_by(LedgerEntry.seq)).all()
    later = [rules.LaterEntry(kind, on, (data or {}).get("proposal"), (data or {}).get("audit_kind"))
             for kind, on, data in rows]
    return rules.superseding_entry(proposal.action, proposal.id, later)


def _suspension_in_force(certificate: Certificate, today: dt.date) -> bool:
    return (certificate.status == CertificateStatus.SUSPENDED.value
            and certificate.effective_status(today) is CertificateStatus.SUSPENDED)


def _end_provisional_suspension(proposal: SanctionProposal, officer, reason: str) -> None:
    """A rejected proposal lifts its provisional suspension, unless a later decision has replaced it."""
    certificate = proposal.certificate
    if _later_decision(proposal) is None and _suspension_in_force(certificate, clock.today()):
        lifecycle.lift_suspension(certificate, reason=reason, actor=officer, extra=_extra(proposal),
                                  message=LedgerMessage(N_("Provisional suspension lifted: sanction proposal #%(id)s was rejected."),
                                      id=proposal.id))


def _apply_sanction(proposal: SanctionProposal, officer) -> None:
    certificate = proposal.certificate
    words = _sanction_words(proposal)
    extra = _extra(proposal)
    today = clock.today()
    if proposal.action == rules.SanctionAction.LOWER_LEVEL:
        level_ids = [lvl.id for lvl in certificate.scheme.levels]
        new_level = rules.lower_level_id(level_ids, certificate.level)
        if new_level is None:
            raise InvalidTransition(_("The certificate is already at its lowest level."))
        proposal.level_before = certificate.level
        proposal.level_after = new_level
        text = LedgerMessage(N_("Level lowered by one under %(words)s."), words=words)
        entry = lifecycle.change_level(certificate, new_level=new_level, actor=officer, reason=text,
                                       public_text=text, extra=extra)
    elif proposal.action == rules.SanctionAction.SUSPEND:
        from registry.certificates.rules import add_months, latest_suspension_end
        until = min(add_months(today, sanction_policy().suspension_months),
                    latest_suspension_end(today, current_app.config["MAX_SUSPENSION_MONTHS"]))
        reason = LedgerMessage(N_("Suspended under %(words)s."), words=words)
        if (proposal.provisional_on is not None and _later_decision(proposal) is None
                and _suspension_in_force(certificate, today)):
            # The provisional suspension becomes the sanction's: same suspension, now with its end date.
            entry = lifecycle.set_suspension_end(
                certificate, until=until, actor=officer, reason=reason, extra=extra,
                message=LedgerMessage(N_("Provisional suspension confirmed as a sanction under %(words)s, "
                                              "until %(day)s."), words=words, day=until.isoformat()))
        else:
            entry = lifecycle.suspend_certificate(certificate, until=until, actor=officer, reason=reason)
    else:
        entry = lifecycle.record_event(certificate, "sanction", actor_role=officer.role, reason=proposal.decision_reason,
                                       public_text=LedgerMessage(N_("Special audit required under %(words)s."),
                                                                     words=words), extra=extra)
    proposal.applied_seq = entry.seq


def appeal_sanction(proposal: SanctionProposal, user, *, text: str) -> SanctionProposal:
    """The company appeals a confirmed sanction, once. The body must decide within the configured working
    days; a suspension under appeal is held open (no end date) so it cannot run out into revocation.

    Raises:
        PermissionDenied, InvalidTransition, ValidationError
    """
    if not user.has_role("company") or user.company_id != proposal.company_id:
        raise PermissionDenied()
    if proposal.state != "confirmed" or proposal.appeal_text:
        raise InvalidTransition(_("Only a confirmed sanction can be appealed, and only once."))
    text = _require_text(text)
    today = clock.today()
    certificate = proposal.certificate
    hold = proposal.action == rules.SanctionAction.SUSPEND
    if hold and (_later_decision(proposal) is not None or not _suspension_in_force(certificate, today)):
        raise InvalidTransition(_("The suspension this sanction imposed is no longer in force; it can no longer be appealed."))
    proposal.appeal_text = text
    proposal.state = "appealed"
    proposal.appealed_on = today
    proposal.appeal_decide_by = rules.appeal_decide_by(hearing_policy(), today, calendar.is_workday)
    _flush_or_conflict()
    due = proposal.appeal_decide_by.isoformat()
    extra = {**_extra(proposal), "appeal_decide_by": due}
    if hold:
        proposal.held_suspension_end = certificate.suspended_until
        lifecycle.set_suspension_end(
            certificate, until=None, actor=lifecycle.SYSTEM, extra=extra,
            reason=LedgerMessage(N_("Appeal lodged against sanction proposal #%(id)s."), id=proposal.id),
            message=LedgerMessage(N_("Appeal lodged against the suspension (proposal #%(id)s); the decision is "
                                          "due by %(day)s. The suspension is held meanwhile and does not run out."),
                                          id=proposal.id, day=due))
    else:
        lifecycle.record_event(certificate, "sanction", actor_role="company", extra=extra,
                               public_text=LedgerMessage(N_("Appeal lodged against sanction proposal #%(id)s; the "
                                                             "decision is due by %(day)s."), id=proposal.id, day=due))
    _notify_company(proposal.company_id, _("Appeal received for certificate %(cert)s", cert=certificate.number),
                    _("The certification body must decide your appeal by %(day)s.", day=due))
    db.session.flush()
    return proposal


def decide_appeal(proposal: SanctionProposal, officer, *, uphold: bool, reason: str,
                  expected_version: int | None = None) -> SanctionProposal:
    """An officer other than the one who confirmed the sanction decides the appeal.

    Upheld: what the sanction changed is undone exactly (the level it lowered, the suspension it imposed,
    the special audit it required), unless a later decision replaced it: then the outcome is recorded
    with a public note and the current state stands. Dismissed: a held suspension resumes for the days it
    had left when the appeal was lodged.

    Raises:
        PermissionDenied, InvalidTransition, ValidationError
    """
    lifecycle.require_deciding_role(officer)
    reason = lifecycle.require_reason(reason)
    _check_version(proposal, expected_version)
    if proposal.state != "appealed":
        raise InvalidTransition(_("There is no pending appeal."))
    if getattr(officer, "id", None) is not None and officer.id == proposal.decided_by_id:
        raise PermissionDenied(_("The officer who confirmed the sanction may not decide its appeal."))
    today = clock.today()
    proposal.appeal_decided_by_id = getattr(officer, "id", None)
    proposal.appeal_reason = reason
    proposal.appeal_decided_on = today
    proposal.state = "appeal_upheld" if uphold else "appeal_dismissed"
    _flush_or_conflict()
    certificate = proposal.certificate
    words = _sanction_words(proposal)
    extra = _extra(proposal)
    later = _later_decision(proposal)
    if uphold:
        _reverse_on_appeal(proposal, officer, reason, later, words, extra, today)
    elif (proposal.action == rules.SanctionAction.SUSPEND and later is None and _suspension_in_force(certificate, today)
          and certificate.suspended_until is None and proposal.held_suspension_end is not None):
        until = rules.resumed_suspension_end(proposal.held_suspension_end, proposal.appealed_on, today)
        lifecycle.set_suspension_end(certificate, until=until, actor=officer, reason=reason, extra=extra,
                                     message=LedgerMessage(N_("Appeal dismissed (%(words)s); the suspension "
                                                                   "continues until %(day)s."), words=words,
                                                                   day=until.isoformat()))
    else:
        lifecycle.record_event(certificate, "sanction", actor_role=officer.role, reason=reason, extra=extra,
                               public_text=LedgerMessage(N_("Appeal dismissed (%(words)s)."), words=words))
    db.session.flush()
    return proposal


# Words of the later decision and of the status in an appeal's note, rendered in each reader's language.
LEDGER_KIND_WORDS = {"level_changed": N_("Level changed"), "renewed": N_("Renewed"), "suspended": N_("Suspended"),
                     "restored": N_("Restored"), "revoked": N_("Revoked"), "withdrawn": N_("Withdrawn"),
                     "expired": N_("Expired"), "suspension_changed": N_("Suspension end changed"),
                     "audit_recorded": N_("Audit recorded")}
STATUS_WORDS = {"valid": N_("Valid"), "suspended": N_("Suspended"), "revoked": N_("Revoked"),
                "withdrawn": N_("Withdrawn"), "expired": N_("Expired")}


def _reverse_on_appeal(proposal, officer, reason, later, words, extra, today) -> None:
    certificate = proposal.certificate
    action = proposal.action
    in_force = (later is None and certificate.effective_status(today) not in TERMINAL_STATUSES
                and (action != rules.SanctionAction.LOWER_LEVEL or certificate.level == proposal.level_after)
                and (action != rules.SanctionAction.SUSPEND or _suspension_in_force(certificate, today)))
    if not in_force:
        if later is not None:
            proposal.appeal_superseded_by, proposal.appeal_superseded_on = later.kind, later.effective_on
            note = LedgerMessage(N_("Appeal upheld (%(words)s), but a later decision (%(kind)s, %(day)s) has since "
                                    "replaced what the sanction changed; that decision stands."), words=words,
                                 kind=LedgerMessage(LEDGER_KIND_WORDS.get(later.kind, later.kind)), day=later.effective_on)
        else:
            status = certificate.effective_status(today)
            proposal.appeal_superseded_by = "status:" + status.value
            note = LedgerMessage(N_("Appeal upheld (%(words)s); the certificate is now %(status)s, so nothing is "
                                    "changed."), words=words, status=LedgerMessage(STATUS_WORDS[status.value]))
        proposal.appeal_note = legal_text(note)
        lifecycle.record_event(certificate, "sanction", actor_role=officer.role, reason=reason, public_text=note,
                               extra={**extra, "appeal": "upheld", "superseded": True})
        return
    if action == rules.SanctionAction.LOWER_LEVEL:
        text = LedgerMessage(N_("Level restored on appeal (%(words)s)."), words=words)
        lifecycle.change_level(certificate, new_level=proposal.level_before, actor=officer, reason=reason,
                               public_text=text, extra={**extra, "appeal": "upheld"})
    elif action == rules.SanctionAction.SUSPEND:
        lifecycle.lift_suspension(certificate, reason=reason, actor=officer, extra={**extra, "appeal": "upheld"},
                                  message=LedgerMessage(N_("Suspension lifted on appeal (%(words)s)."), words=words))
    else:
        lifecycle.record_event(certificate, "sanction", actor_role=officer.role, reason=reason,
                               extra={**extra, "appeal": "upheld"},
                               public_text=LedgerMessage(N_("Sanction withdrawn on appeal (%(words)s)."), words=words))


def sanction_proposals(user, state: str = "") -> list[SanctionProposal]:
    """Officers see all proposals; a company sees its own.

    Raises:
        PermissionDenied
    """
    query = select(SanctionProposal).order_by(SanctionProposal.id.desc()).limit(200)
    if state:
        query = query.where(SanctionProposal.state == state)
    if user.has_role(*STAFF_ROLES):
        return list(db.session.scalars(query))
    if user.has_role("company"):
        return list(db.session.scalars(query.where(SanctionProposal.company_id == user.company_id)))
    raise PermissionDenied()


PUBLIC_PROPOSAL_STATES = ("confirmed", "appealed", "appeal_upheld", "appeal_dismissed")


def public_sanctions(certificate_id: int, limit: int = 10) -> list[SanctionProposal]:
    """Sanctions the public may see on the certificate page: decided ones, their appeals and deadlines, and a
    pending proposal whose provisional suspension is in effect (the public sees the suspension, so the why)."""
    return list(db.session.scalars(
        select(SanctionProposal).where(
            SanctionProposal.certificate_id == certificate_id,
            or_(SanctionProposal.state.in_(PUBLIC_PROPOSAL_STATES),
                and_(SanctionProposal.state == "proposed", SanctionProposal.provisional_on.is_not(None))))
        .order_by(SanctionProposal.id.desc()).limit(limit)))
