"""Role checks for views. Services check permissions again: a template hiding a button is not security."""
from __future__ import annotations

from functools import wraps

from flask_login import current_user

from registry.errors import PermissionDenied


def role_required(*roles):
    """Allow the view only to signed-in users holding one of `roles`; others get 403 (or the login page)."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from registry.extensions import login_manager
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                raise PermissionDenied()
            return view(*args, **kwargs)
        return wrapped
    return decorator
