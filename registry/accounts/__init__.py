"""Accounts: users, roles, login."""
from __future__ import annotations

from flask_babel import gettext

from registry.extensions import db, login_manager


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated later, when shown."""
    return message


# Flask-Login flashes this when an anonymous visitor opens a page that needs an account.
login_manager.login_message = N_("Please sign in to see this page.")
login_manager.login_message_category = "info"
login_manager.localize_callback = gettext


@login_manager.user_loader
def load_user(user_id: str):
    from registry.accounts import sessions
    from registry.accounts.models import User
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError, OverflowError):
        return None
    # Server-side validity: the account is active and this browser's session row still exists for it.
    if user is None or not sessions.is_valid(user):
        return None
    return user
