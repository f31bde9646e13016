"""Loading the published sanction rules (a TOML file) and the deadline policy from config."""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from flask import current_app

from registry.complaints.rules import DeadlinePolicy, HearingPolicy, SanctionPolicy, parse_policy

DEFAULT_RULES = Path(__file__).resolve().parent / "sanction_rules.toml"


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> SanctionPolicy:
    with open(path, "rb") as handle:
        return parse_policy(tomllib.load(handle))


def sanction_policy() -> SanctionPolicy:
    """The rules in force (re-read when the file changes, so a published edit takes effect)."""
    path = current_app.config.get("SANCTION_RULES_PATH") or str(DEFAULT_RULES)
    return _load(path, Path(path).stat().st_mtime)


def deadline_policy() -> DeadlinePolicy:
    config = current_app.config
    return DeadlinePolicy(decide_workdays=int(config["COMPLAINT_DECIDE_WORKDAYS"]),
                          respond_workdays=int(config["COMPLAINT_RESPOND_WORKDAYS"]),
                          mediation_workdays=int(config["COMPLAINT_MEDIATION_WORKDAYS"]))


def hearing_policy() -> HearingPolicy:
    """Due-process windows from config (SANCTION_RESPONSE_WORKDAYS, SANCTION_CRITICAL_RESPONSE_WORKDAYS,
    SANCTION_APPEAL_DECIDE_WORKDAYS); a zero or negative window is refused (PolicyError), never applied."""
    config = current_app.config
    return HearingPolicy(response_workdays=int(config["SANCTION_RESPONSE_WORKDAYS"]),
                         critical_response_workdays=int(config.get("SANCTION_CRITICAL_RESPONSE_WORKDAYS", 2)),
                         appeal_decide_workdays=int(config.get("SANCTION_APPEAL_DECIDE_WORKDAYS", 10)))
