"""Delivering the message outbox: claim due rows with row locks, send each once, retry with backoff.

Claiming is `SELECT ... FOR UPDATE SKIP LOCKED` then an UPDATE of those rows that checks they are still due,
in one transaction (PostgreSQL): concurrent workers skip each other's rows, so each message is claimed by
exactly one of them. SQLite takes no row locks (the FOR UPDATE clause is not rendered), but it has one
writer at a time and the UPDATE's own "still due" check lets only the first of two claims have a row. A claim is a lease:
a worker that dies mid-send leaves rows in "sending" that another worker takes over after the lease.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from registry import clock
from registry.messaging.backends import DeliveryError, Message, backend
from registry.messaging.models import MessageStatus, OutgoingMessage

log = logging.getLogger(__name__)
LEASE_SECONDS = 300


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def retry_delay(attempts: int) -> dt.timedelta:
    """Exponential backoff after the n-th failed attempt: base, 2×base, 4×base … capped."""
    base = float(current_app.config["MESSAGE_RETRY_BASE_SECONDS"])
    cap = float(current_app.config["MESSAGE_RETRY_MAX_SECONDS"])
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _due(now: dt.datetime):
    return or_(and_(OutgoingMessage.status == MessageStatus.PENDING.value, OutgoingMessage.next_attempt_at <= now),
               and_(OutgoingMessage.status == MessageStatus.SENDING.value, OutgoingMessage.lease_until < now))


def claim(session: Session, limit: int, ids: list[int] | None = None) -> list[OutgoingMessage]:
    """Take up to `limit` due messages for this worker (committed at once, so the lease is visible)."""
    now = clock.utcnow()
    token = uuid.uuid4().hex
    chosen = select(OutgoingMessage.id).where(_due(now)).order_by(OutgoingMessage.id).limit(limit)
    if ids is not None:
        chosen = chosen.where(OutgoingMessage.id.in_(ids))
    # Two statements in one transaction, not UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED):
    # PostgreSQL may re-run such a subquery while the UPDATE changes the rows it reads, and each re-run's
    # LIMIT then takes the next n rows (one worker would claim everything). The UPDATE checks "due" again,
    # which makes the claim safe on SQLite too, where SELECT takes no row lock.
    ids = list(session.scalars(chosen.with_for_update(skip_locked=True)))
    if not ids:
        session.rollback()
        return []
    session.execute(update(OutgoingMessage).where(OutgoingMessage.id.in_(ids), _due(now))
                    .values(status=MessageStatus.SENDING.value, claim_token=token, claimed_by=worker_name(),
                            lease_until=now + dt.timedelta(seconds=LEASE_SECONDS),
                            attempts=OutgoingMessage.attempts + 1)
                    .execution_options(synchronize_session=False))
    session.commit()
    return list(session.scalars(select(OutgoingMessage).where(OutgoingMessage.claim_token == token)
                                .order_by(OutgoingMessage.id)))


def _finish(session: Session, row: OutgoingMessage, token: str, error: str | None) -> str:
    now = clock.utcnow()
    if error is None:
        values = {"status": MessageStatus.SENT.value, "sent_at": now, "last_error": "", "lease_until": None}
        outcome = "sent"
    elif row.attempts >= int(current_app.config["MESSAGE_MAX_ATTEMPTS"]):
        values = {"status": MessageStatus.FAILED.value, "last_error": error[:1000], "lease_until": None}
        outcome = "failed"
    else:
        values = {"status": MessageStatus.PENDING.value, "last_error": error[:1000], "lease_until": None,
                  "next_attempt_at": now + retry_delay(row.attempts)}
        outcome = "retrying"
    # Only while the claim is still ours (a lease that ran out belongs to whoever took it over).
    session.execute(update(OutgoingMessage).where(OutgoingMessage.id == row.id, OutgoingMessage.claim_token == token)
                    .values(claim_token=None, **values).execution_options(synchronize_session=False))
    session.commit()
    return outcome


def deliver(engine, limit: int = 50, ids: list[int] | None = None) -> DeliveryReport:
    """Claim due messages (only `ids` if given) and send each; returns what happened."""
    report = DeliveryReport()
    chosen_backend = None
    with Session(engine, expire_on_commit=False) as session:
        rows = claim(session, limit, ids)
        for row in rows:
            token = row.claim_token
            error = None
            try:
                chosen_backend = chosen_backend or backend()
                chosen_backend.send(Message(row.channel, row.recipient, row.subject, row.body), row.id)
            except DeliveryError as failure:
                error = str(failure)
            except Exception as failure:  # a message never takes the worker down
                log.exception("message %s: backend error", row.id)
                error = f"{type(failure).__name__}: {failure}"
            outcome = _finish(session, row, token, error)
            setattr(report, outcome, getattr(report, outcome) + 1)
            if error:
                log.warning("message %s (%s) not sent, attempt %s: %s (%s)", row.id, row.channel, row.attempts,
                            error, outcome)
    return report


def deliver_due(engine, batch: int = 50, rounds: int = 20) -> DeliveryReport:
    """Deliver in batches until nothing is due (at most `rounds` batches per call, so the loop stays lively)."""
    total = DeliveryReport()
    for _ in range(rounds):
        report = deliver(engine, limit=batch)
        total.sent += report.sent
        total.retrying += report.retrying
        total.failed += report.failed
        if report.handled < batch:
            break
    return total


def retry(session: Session, message_id: int) -> OutgoingMessage | None:
    """Staff asked to try a failed message again: due now, with a fresh count of attempts. Caller commits."""
    row = session.get(OutgoingMessage, message_id)
    if row is None or row.status != MessageStatus.FAILED.value:
        return None
    row.status, row.attempts, row.next_attempt_at = MessageStatus.PENDING.value, 0, clock.utcnow()
    session.info.setdefault("messages_due", []).append(row.id)
    return row


def backlog(session: Session) -> dict:
    """Counts for /healthz and the office page: due and failed messages, and the oldest due one's age."""
    now = clock.utcnow()
    waiting, oldest = session.execute(select(func.count(), func.min(OutgoingMessage.created_at))
                                      .where(OutgoingMessage.status.in_([MessageStatus.PENDING.value,
                                                                         MessageStatus.SENDING.value]))).one()
    failed = session.scalar(select(func.count()).select_from(OutgoingMessage)
                            .where(OutgoingMessage.status == MessageStatus.FAILED.value)) or 0
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return {"waiting": waiting or 0, "failed": failed, "oldest_waiting_seconds": round(age, 1)}


def prune_sent(session: Session, retention_days: float) -> int:
    """Sent messages hold consumers' phone numbers and e-mail addresses: delete them after the retention."""
    cutoff = clock.utcnow() - dt.timedelta(days=retention_days)
    return session.execute(delete(OutgoingMessage).where(OutgoingMessage.status == MessageStatus.SENT.value,
                                                         OutgoingMessage.sent_at < cutoff)).rowcount or 0
