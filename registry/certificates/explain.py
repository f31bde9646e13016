"""Plain explanations read from the ledger for the public pages: why and since when a certificate is suspended,
and when (and under which rules) its level was lowered, so a score or an old mark never contradicts the page."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from registry import presenters
from registry.ledger.messages import entry_reason
from registry.schemes import get_scheme


@dataclass(frozen=True)
class Suspension:
    reason: str
    since: dt.date | None
    until: dt.date | None


@dataclass(frozen=True)
class LevelLowered:
    from_name: str
    to_name: str
    on: dt.date
    under_complaint_rules: bool


def suspension(entries, suspended_until: dt.date | None) -> Suspension:
    """The latest suspension's reason (in the reader's language when the registry wrote it) and dates."""
    latest = next((e for e in reversed(entries) if e.kind == "suspended"), None)
    if latest is None:
        return Suspension("", None, suspended_until)
    return Suspension(entry_reason(latest), latest.effective_on, suspended_until)


def level_lowered(entries, scheme_id: str, current_level: str) -> LevelLowered | None:
    """The lowering that brought the certificate to its current level, if the current level came from one.

    Entries are oldest first. A level reached by a raise, or held since issue, needs no explanation."""
    scheme = get_scheme(scheme_id)
    if scheme is None:
        return None
    ranks = {level.id: index for index, level in enumerate(scheme.levels)}
    previous = None
    found = None
    for entry in entries:
        if not entry.level_after:
            continue
        if previous is not None and entry.level_after != previous:
            lowered = ranks.get(entry.level_after, -1) < ranks.get(previous, -1)
            found = (previous, entry) if lowered else None
        previous = entry.level_after
    if found is None or previous != current_level:
        return None
    before, entry = found
    data = entry.data if isinstance(entry.data, dict) else {}
    return LevelLowered(presenters.level_name(scheme_id, data.get("level_before") or before),
                        presenters.level_name(scheme_id, current_level), entry.effective_on,
                        bool(data.get("sanction_rule")))
