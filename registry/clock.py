"""The one source of "today" and "now" for every rule: Asia/Shanghai, pinnable by config for tests and demos."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    """The current time, timezone-aware in Asia/Shanghai."""
    return dt.datetime.now(SHANGHAI)


def today() -> dt.date:
    """Today's date in Asia/Shanghai, or the date pinned by REGISTRY_TODAY."""
    if has_app_context():
        pinned = current_app.config.get("REGISTRY_TODAY")
        if pinned:
            return dt.date.fromisoformat(str(pinned))
    return now().date()


def utcnow() -> dt.datetime:
    """Naive UTC timestamp for database columns (portable across SQLite and PostgreSQL)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
