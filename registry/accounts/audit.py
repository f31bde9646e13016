"""The staff audit log: who (the person, not only the role) did what, and every sign-in and failed sign-in.

Nothing here is public; admins read it at /office/staff-log. The public ledger keeps only the role of
whoever acted: this log is the link from a ledger entry to a person.

Actions are recorded without any code in the services: a session hook adds one entry to every commit
made by a signed-in user's write request (POST and the like), in the same transaction as the change, so
an action and its entry are committed together or not at all. The entry names the endpoint, its URL
parameters and the rows the transaction wrote (a ledger entry's id among them).
Sign-ins are recorded explicitly (record) and also written to the application log.
"""
from __future__ import annotations

import logging

from flask import has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from registry import clock
from registry.accounts.models import StaffAuditEntry, User, UserSession
from registry.accounts.sessions import client_ip

log = logging.getLogger("registry.audit")

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Endpoints that write their own, more precise entries.
SELF_RECORDING = {"accounts.login", "accounts.logout", "accounts.end_all_sessions"}
# Tables whose rows are bookkeeping, not the action.
NOT_CHANGES = {StaffAuditEntry.__tablename__, UserSession.__tablename__}
MAX_IDS_PER_TABLE = 20
_CHANGES = "registry.audit_changes"
_RECORDING = "registry.audit_recording"


def record(session: Session, action: str, *, user: User | None = None, email: str = "", status: int | None = None,
           detail: dict | None = None) -> StaffAuditEntry:
    """Add an entry for `action` to `session` (committed with it), with the request's method, path and address."""
    entry = StaffAuditEntry(at=clock.utcnow(), user_id=user.id if user is not None else None,
                            email=(user.email if user is not None else email or "")[:254],
                            role=user.role if user is not None else "", action=action[:80], status=status,
                            detail=detail or {})
    if has_request_context():
        entry.method, entry.path, entry.ip = request.method, request.path[:500], client_ip()
    session.add(entry)
    return entry


def _is_the_requests_session(session: Session) -> bool:
    """Only the request's own session records its action: a side session opened while it commits (the search
    index's rebuild after commit, say) is bookkeeping, and the request's session may no longer run SQL then."""
    from registry.extensions import db
    return db.session.registry.has() and session is db.session.registry()


def _collect(session: Session, _flush_context) -> None:
    if not has_request_context() or request.method not in WRITE_METHODS or not _is_the_requests_session(session):
        return
    changes: dict[str, set] = session.info.setdefault(_CHANGES, {})
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table is None or table in NOT_CHANGES:
            continue
        if obj in session.dirty and not session.is_modified(obj):
            continue
        # In after_flush the identity key is not set yet for new rows; the primary key attributes are.
        key = [k for k in inspect(obj).mapper.primary_key_from_instance(obj) if k is not None]
        ids = changes.setdefault(table, set())
        if key and len(ids) < MAX_IDS_PER_TABLE:
            ids.add(key[0] if len(key) == 1 else "/".join(map(str, key)))


def _signed_in_user() -> User | None:
    from flask_login import current_user
    user = current_user._get_current_object() if current_user else None
    return user if isinstance(user, User) and user.is_authenticated else None


def _record_action(session: Session) -> None:
    """before_commit: one entry for the signed-in user's write request, holding what this commit changed."""
    if (not has_request_context() or request.method not in WRITE_METHODS or request.endpoint in SELF_RECORDING
            or session.info.get(_RECORDING) or not _is_the_requests_session(session)):
        return
    session.info[_RECORDING] = True
    try:
        session.flush()  # the last changes, so they are collected too
        changes = session.info.pop(_CHANGES, {})
        if not changes:
            return
        user = _signed_in_user()
        if user is None:
            return
        detail = {"changed": {table: sorted(ids, key=str) for table, ids in sorted(changes.items())}}
        if request.view_args:
            detail["args"] = {k: str(v)[:200] for k, v in request.view_args.items()}
        record(session, request.endpoint or "unknown", user=user, detail=detail)
        from registry.accounts.sessions import touch
        touch(user)
        log.info("staff action user=%s role=%s action=%s path=%s", user.id, user.role, request.endpoint, request.path)
    finally:
        session.info.pop(_RECORDING, None)


def _forget(session: Session, *_args) -> None:
    session.info.pop(_CHANGES, None)


def register() -> None:
    """Hook the recording on every session (called once from create_app's wiring; idempotent)."""
    if event.contains(Session, "before_commit", _record_action):
        return
    event.listen(Session, "after_flush", _collect)
    event.listen(Session, "before_commit", _record_action)
    event.listen(Session, "after_commit", _forget)
    event.listen(Session, "after_rollback", _forget)
