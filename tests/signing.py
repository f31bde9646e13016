"""Signing a test client in without the login form: a real server-side session row, as the login makes."""
from __future__ import annotations


def sign_in_session(client, user_id: int) -> None:
    """Open a UserSession for the user and put its token in the client's cookie session (like a login)."""
    from registry.accounts import sessions
    from registry.accounts.models import User
    from registry.extensions import db
    with client.application.app_context(), client.application.test_request_context():
        token = sessions.open_session(db.session.get(User, user_id))
        db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
        session[sessions.TOKEN_KEY] = token
