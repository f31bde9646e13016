"""Server-side session validity: a signed-in browser counts only while its UserSession row exists.

Flask's session is a signed cookie: on its own it stays valid for as long as the secret key does, so a
cookie copied before a sign-out kept working after it. The cookie now also carries a random token whose
hash is stored in user_session; every request checks the row (see load_user in accounts/__init__.py).
Deleting rows ends sessions: sign-out (this browser), "sign out everywhere", a password change (all other
browsers), disabling an account (all). A role change ends them too, because each row remembers the role
it was opened with.
"""
from __future__ import annotations

import hashlib
import secrets

from flask import has_request_context, request, session
from flask_login import login_user
from sqlalchemy import delete, select

from registry import clock
from registry.accounts.models import User, UserSession
from registry.extensions import db

TOKEN_KEY = "_sid"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def client_ip() -> str:
    """The address the request came from (ProxyFix, when configured, has already put the client's here)."""
    return (request.remote_addr or "")[:64] if has_request_context() else ""


def open_session(user: User) -> str:
    """A new session row for `user`; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    agent = request.headers.get("User-Agent", "")[:200] if has_request_context() else ""
    db.session.add(UserSession(user_id=user.id, token_hash=_hash(token), role=user.role, ip=client_ip(),
                               user_agent=agent))
    db.session.flush()
    return token


def sign_in(user: User) -> None:
    """Start a fresh session for `user` in this browser (the old cookie's contents are dropped first)."""
    session.clear()
    login_user(user)
    session[TOKEN_KEY] = open_session(user)


def current_row(user: User) -> UserSession | None:
    """This browser's session row, if it is still valid for `user` (exists, same account, same role)."""
    token = session.get(TOKEN_KEY)
    if not isinstance(token, str) or not token:
        return None
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == _hash(token)))
    if row is None or row.user_id != user.id or row.role != user.role:
        return None
    return row


def is_valid(user: User) -> bool:
    return user.active and current_row(user) is not None


def touch(user: User) -> None:
    """Remember when this browser last did something (called when the user's request commits a change)."""
    row = current_row(user)
    if row is not None:
        row.last_seen_at = clock.utcnow()


def end_current() -> None:
    """End this browser's session (sign-out)."""
    token = session.get(TOKEN_KEY)
    if isinstance(token, str) and token:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == _hash(token)))


def end_all(user: User, *, keep_current: bool = False) -> int:
    """End every session of `user` (optionally all but this browser's); returns how many were ended."""
    query = delete(UserSession).where(UserSession.user_id == user.id)
    token = session.get(TOKEN_KEY) if has_request_context() else None
    if keep_current and isinstance(token, str) and token:
        query = query.where(UserSession.token_hash != _hash(token))
    return db.session.execute(query).rowcount or 0


def sessions_of(user: User) -> list[tuple[UserSession, bool]]:
    """Open sessions of `user`, newest first, each with whether it is this browser's."""
    token = session.get(TOKEN_KEY)
    mine = _hash(token) if isinstance(token, str) and token else None
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)
                              .order_by(UserSession.created_at.desc(), UserSession.id.desc())).all()
    return [(row, row.token_hash == mine) for row in rows]
