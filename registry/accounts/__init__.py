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
    from registry.accounts.models import User
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
