"""Outgoing messages (SMS to consumers, e-mail to companies and consumers) through a durable outbox.

`queue(...)` adds an OutgoingMessage row to the session: it commits with the change or not at all.
Who sends it is decided by MESSAGE_DELIVERY:
- "inline" (embedded default): right after the commit, this process sends the rows that commit queued;
  whatever is left (a failure, a crash) waits for the worker or `flask messages deliver`;
- "worker" (production): web processes only write rows; `flask registry worker` delivers them.
Failed messages are retried with exponential backoff, then shown to staff at /office/messages.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from registry.messaging.backends import Message
from registry.messaging.models import MessageStatus, OutgoingMessage

log = logging.getLogger(__name__)
DUE_KEY = "messages_due"
MODES = ("inline", "worker")

__all__ = ["Message", "MessageStatus", "OutgoingMessage", "init_app", "queue", "sent"]


def init_app(app: Flask) -> None:
    """Settings' defaults, the SMTP connection settings, the after-commit hook and the health check."""
    from flask_mailman import Mail

    defaults = {
        "MESSAGE_DELIVERY": "inline",
        "MESSAGE_MAX_ATTEMPTS": 8,
        "MESSAGE_RETRY_BASE_SECONDS": 30.0,
        "MESSAGE_RETRY_MAX_SECONDS": 3600.0,
        "MESSAGE_MAX_AGE": 900.0,
        "MESSAGE_RETENTION_DAYS": 30.0,
        "MAIL_SERVER": "localhost",
        "MAIL_PORT": 25,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": None,
        "MAIL_PASSWORD": None,
        "MAIL_DEFAULT_SENDER": "registry@localhost",
        "MAIL_TIMEOUT": 30,
        # Flask-Mailman would pick its in-memory backend under TESTING; SmtpEmail always means SMTP.
        "MAIL_BACKEND": "smtp",
        "SMS_GATEWAY_URL": None,
        "SMS_GATEWAY_KEY": None,
        "SMS_GATEWAY_TIMEOUT": 10.0,
    }
    for name, value in defaults.items():
        app.config.setdefault(name, value)
    Mail().init_app(app)
    app.extensions.setdefault("registry.health", {})["messages"] = health
    _install_session_hooks()


def mode() -> str:
    chosen = str(current_app.config.get("MESSAGE_DELIVERY", "inline")).strip().lower()
    return chosen if chosen in MODES else "inline"


def queue(session: Session, channel: str, to: str, subject: str, body: str) -> None:
    """Write the message to the outbox in the surrounding transaction. Empty addresses are skipped silently."""
    if to:
        session.add(OutgoingMessage(channel=channel, recipient=to, subject=subject[:300], body=body))


def sent(app=None) -> list[Message]:
    """Messages the memory backend has sent (tests)."""
    return list((app or current_app).extensions.get("complaint_messages", []))


def health() -> dict:
    """/healthz: messages waiting and failed; degraded when one waits longer than MESSAGE_MAX_AGE seconds."""
    from registry.extensions import db
    from registry.messaging.delivery import backlog

    try:
        report = backlog(db.session)
    except Exception as error:  # never raise from the health page
        db.session.rollback()
        return {"status": "degraded", "error": type(error).__name__}
    report["delivery"] = mode()
    late = report["oldest_waiting_seconds"] > float(current_app.config["MESSAGE_MAX_AGE"])
    report["status"] = "degraded" if late else "ok"
    if late:
        report["notice"] = "messages wait longer than MESSAGE_MAX_AGE: is `flask registry worker` running?"
    return report


_hooks_installed = False


def _install_session_hooks() -> None:
    """Once per process: note the ids of flushed messages; after commit send them (inline mode)."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True

    @event.listens_for(Session, "after_flush")
    def _note_messages(session, _flush_context):
        ids = [obj.id for obj in session.new if isinstance(obj, OutgoingMessage)]
        if ids:
            session.info.setdefault(DUE_KEY, []).extend(ids)

    @event.listens_for(Session, "after_soft_rollback")
    def _forget(session, _previous_transaction):
        if not session.in_transaction():
            session.info.pop(DUE_KEY, None)

    @event.listens_for(Session, "after_commit")
    def _send_after_commit(session):
        ids = session.info.pop(DUE_KEY, None)
        if not ids or not has_app_context() or "mailman" not in current_app.extensions:
            return
        if mode() != "inline":
            return
        deliver_inline(ids)


def deliver_inline(ids: list[int]) -> None:
    """Send the messages a commit just wrote, in a fresh session; never raise (the change is committed and
    the rows persist for the worker)."""
    from registry.extensions import db
    from registry.messaging.delivery import deliver

    try:
        deliver(db.engine, limit=len(ids), ids=ids)
    except Exception:
        log.exception("sending messages after commit failed; they stay in the outbox")
