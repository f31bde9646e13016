"""Outgoing messages (SMS to the consumer's mobile, e-mail to companies and consumers): one interface.

Services call `queue(...)`; the message waits in the database session and is handed to the configured
backend only after the transaction commits (nothing is sent for a change that was rolled back).
Backends, chosen by MESSAGE_BACKEND: "console" (development: logged and printed), "memory" (tests: kept
in app.extensions["complaint_messages"]). A production SMS/e-mail gateway plugs in as one more class
with a `send(message)` method, registered in BACKENDS.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
PENDING_KEY = "complaint_messages_pending"


@dataclass(frozen=True)
class Message:
    channel: str      # "sms" or "email"
    to: str
    subject: str
    body: str


class ConsoleBackend:
    """Development: write each message to the log and to stdout."""

    def send(self, message: Message) -> None:
        text = f"[{message.channel} → {message.to}] {message.subject}\n{message.body}"
        log.info("outgoing message %s", text)
        print(text, flush=True)


class MemoryBackend:
    """Tests: keep every message in a list on the app."""

    def send(self, message: Message) -> None:
        current_app.extensions.setdefault("complaint_messages", []).append(message)


BACKENDS = {"console": ConsoleBackend, "memory": MemoryBackend}


def backend():
    name = current_app.config.get("MESSAGE_BACKEND") or ("memory" if current_app.testing else "console")
    return BACKENDS[name]()


def queue(session: Session, channel: str, to: str, subject: str, body: str) -> None:
    """Send after the surrounding transaction commits. Empty addresses are skipped silently."""
    if to:
        session.info.setdefault(PENDING_KEY, []).append(Message(channel, to, subject, body))


def sent(app=None) -> list[Message]:
    """Messages the memory backend has sent (tests)."""
    return list((app or current_app).extensions.get("complaint_messages", []))


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    pending = session.info.pop(PENDING_KEY, [])
    if not pending or not has_app_context():
        return
    chosen = backend()
    for message in pending:
        try:
            chosen.send(message)
        except Exception:  # a failed message never undoes a committed complaint
            log.exception("could not send message to %s", message.to)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
