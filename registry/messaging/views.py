"""The office page of messages that could not be sent: staff see them, with the error, and retry them."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from registry.extensions import db, login_manager
from registry.messaging import delivery
from registry.messaging.models import MessageStatus, OutgoingMessage

bp = Blueprint("messaging", __name__, url_prefix="/office/messages")
SHOWN = 200


@bp.before_request
def staff_only():
    from registry.office.services import require_staff
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    require_staff(current_user)
    return None


def masked(recipient: str) -> str:
    """Staff need to recognise the address, not to copy it: keep its ends only."""
    if "@" in recipient:
        name, _at, domain = recipient.partition("@")
        return f"{name[:2]}***@{domain}"
    return f"{recipient[:3]}****{recipient[-4:]}" if len(recipient) > 7 else "****"


@bp.route("")
def index():
    rows = db.session.scalars(
        select(OutgoingMessage).where(or_(OutgoingMessage.status == MessageStatus.FAILED.value,
                                          (OutgoingMessage.status == MessageStatus.PENDING.value)
                                          & (OutgoingMessage.attempts > 0)))
        .order_by(OutgoingMessage.id.desc()).limit(SHOWN)).all()
    items = [{"id": r.id, "channel": r.channel, "to": masked(r.recipient), "subject": r.subject,
              "attempts": r.attempts, "error": r.last_error, "failed": r.status == MessageStatus.FAILED.value,
              "next_attempt_at": r.next_attempt_at, "created_at": r.created_at} for r in rows]
    return render_template("messaging/index.html", items=items, backlog=delivery.backlog(db.session))


@bp.route("/<int:message_id>/retry", methods=["POST"])
def retry(message_id: int):
    row = delivery.retry(db.session, message_id)
    if row is None:
        flash(_("This message is not waiting for a retry."), "error")
        return redirect(url_for(".index"))
    db.session.commit()
    flash(_("Message %(id)s will be sent again.", id=message_id))
    return redirect(url_for(".index"))
