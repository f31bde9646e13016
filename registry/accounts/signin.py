"""Signing in: the password check with a per-account delay, the sign-in log and the owner's notice.

Limits work at two levels. Per address, Flask-Limiter caps POST /login (LOGIN_IP_RATE_LIMIT, and LOGIN_RATE_LIMIT per address and e-mail). Per account,
across every address, failed attempts are counted in the staff audit log: past LOGIN_ACCOUNT_FREE_FAILURES
failures within LOGIN_FAILURE_WINDOW_SECONDS (counted since the last successful sign-in) each further
attempt must wait 2, 4, 8 … seconds after the previous failure, up to LOGIN_MAX_DELAY_SECONDS. The real
owner is slowed, never locked out, and gets one e-mail per window saying so. Attempts are counted by the
address typed, so an unknown address is slowed exactly like a real one (the delay reveals nothing).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, text

from registry import clock
from registry.accounts import audit, services, sessions
from registry.accounts.models import StaffAuditEntry, User
from registry.extensions import db

log = logging.getLogger("registry.audit")

FAILED, SUCCEEDED, DELAYED, NOTICE = "sign_in_failed", "sign_in", "sign_in_delayed", "sign_in_notice"
LOCK_SPACE = 27922  # the first key of the two-key advisory lock: sign-in attempts (the ledger uses one key)


@dataclass(frozen=True)
class Attempt:
    user: User | None
    wait_seconds: int = 0  # > 0: refused without checking the password; try again after this long


def delay_after(failures: int, free: int, maximum: int) -> int:
    """Seconds an account waits after its `failures`-th failure: none for the first `free`, then doubling."""
    if failures < free:
        return 0
    return int(min(maximum, 2 ** min(failures - free + 1, 30)))


def _window_start(email: str, now: dt.datetime) -> dt.datetime:
    start = now - dt.timedelta(seconds=current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"])
    last_success = db.session.scalar(select(func.max(StaffAuditEntry.at)).where(
        StaffAuditEntry.email == email, StaffAuditEntry.action == SUCCEEDED))
    return max(start, last_success) if last_success else start


def _failures(email: str, since: dt.datetime) -> tuple[int, dt.datetime | None]:
    count, last = db.session.execute(select(func.count(StaffAuditEntry.id), func.max(StaffAuditEntry.at)).where(
        StaffAuditEntry.email == email, StaffAuditEntry.action == FAILED, StaffAuditEntry.at > since)).one()
    return int(count or 0), last


def _lock_attempts_for(address: str) -> None:
    """Serialise attempts on one address, so parallel guesses from many addresses cannot all pass the count
    before any failure is written. PostgreSQL: a transaction-scoped advisory lock per address (released at
    commit); SQLite: a no-op write takes the single write lock now (the busy timeout queues the others)."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        key = int.from_bytes(hashlib.sha256(address.encode("utf-8")).digest()[:4], "big", signed=True)
        db.session.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": LOCK_SPACE, "key": key})
    elif dialect == "sqlite":
        db.session.execute(text("UPDATE staff_audit_entry SET id = id WHERE 0 = 1"))


def attempt(email: str, password: str) -> Attempt:
    """Check credentials under the per-account delay and log the outcome (the caller commits).

    Returns Attempt(user) on success (the session is started), Attempt(None) on a wrong password,
    Attempt(None, wait) when the account must wait before another try.
    """
    address = (email or "").strip().lower()[:254]
    config = current_app.config
    _lock_attempts_for(address)
    now = clock.utcnow()
    since = _window_start(address, now)
    failures, last_failure = _failures(address, since)
    wait = delay_after(failures, config["LOGIN_ACCOUNT_FREE_FAILURES"], config["LOGIN_MAX_DELAY_SECONDS"])
    if wait and last_failure is not None:
        remaining = math.ceil((last_failure + dt.timedelta(seconds=wait) - now).total_seconds())
        if remaining > 0:
            audit.record(db.session, DELAYED, email=address, status=429, detail={"wait": remaining})
            log.warning("sign-in delayed email=%s failures=%s wait=%ss", address, failures, remaining)
            return Attempt(None, remaining)
    user = services.authenticate(address, password)
    if user is not None:
        audit.record(db.session, SUCCEEDED, user=user, status=302)
        sessions.sign_in(user)
        log.info("sign-in user=%s role=%s", user.id, user.role)
        return Attempt(user)
    known = db.session.scalar(select(User).where(func.lower(User.email) == address)) if address else None
    entry = audit.record(db.session, FAILED, email=address, status=401,
                         detail={"known": known is not None, "failures": failures + 1})
    if known is not None:
        entry.user_id, entry.role = known.id, known.role
    log.warning("failed sign-in email=%s known=%s failures=%s", address, known is not None, failures + 1)
    if known is not None and failures + 1 == config["LOGIN_ACCOUNT_FREE_FAILURES"]:
        _notify_owner(known, address, failures + 1, since)
    return Attempt(None)


def _notify_owner(user: User, address: str, failures: int, since: dt.datetime) -> None:
    """One e-mail per window: the account is being slowed down, and what the owner may do."""
    already = db.session.scalar(select(StaffAuditEntry.id).where(
        StaffAuditEntry.email == address, StaffAuditEntry.action == NOTICE, StaffAuditEntry.at > since).limit(1))
    if already is not None:
        return
    from registry.complaints import messages
    subject = _("Failed sign-ins to your account")
    body = _("There were %(n)s failed attempts to sign in to your account %(email)s. Further attempts are now "
             "slowed down; your own sign-in still works with the right password. If these were not you, "
             "change your password after signing in and use “Sign out everywhere” on your account page.",
             n=failures, email=user.email)
    messages.queue(db.session, "email", user.email, subject, body)
    audit.record(db.session, NOTICE, user=user, detail={"failures": failures})
