"""Accounts: users, roles, login."""
from __future__ import annotations

from registry.extensions import db, login_manager


@login_manager.user_loader
def load_user(user_id: str):
    from registry.accounts.models import User
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
