"""Words for complaint states, outcomes, categories and sanction steps, in the user's language."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

STATE_NAMES = {
    "submitted": _l("Received, awaiting review"), "awaiting_info": _l("More information requested"),
    "accepted": _l("Forwarded to the company"), "rejected": _l("Not accepted"),
    "responded": _l("Company answered"), "disputed": _l("Disputed by the consumer"),
    "mediation": _l("In mediation"), "closed": _l("Closed"),
}
OUTCOME_NAMES = {
    "resolved_by_company": _l("resolved by the company"), "upheld": _l("upheld"),
    "partially_upheld": _l("partially upheld"), "not_upheld": _l("not upheld"), "withdrawn": _l("withdrawn by the consumer"),
}
CATEGORY_NAMES = {
    "delivery": _l("Delivery"), "installation": _l("Installation and setup"), "repair": _l("Repair"),
    "warranty_returns": _l("Warranty, returns and exchanges"), "product_information": _l("Product information"),
    "complaint_handling": _l("Complaint handling"), "service_attitude": _l("Service attitude"),
    "recycling": _l("Recycling of old products"), "other": _l("Other"),
}
RESOLUTION_NAMES = {
    "refund": _l("Refund"), "exchange": _l("Exchange"), "repair": _l("Repair"), "compensation": _l("Compensation"),
    "apology": _l("Apology"), "other": _l("Other"),
}
REJECTION_REASON_NAMES = {
    "out_of_scope": _l("outside the certificate's scope"), "duplicate": _l("a duplicate of another complaint"),
    "insufficient_information": _l("not enough information"), "abusive": _l("abusive content"),
    "not_after_sales": _l("not about after-sales service"), "older_than_3_years": _l("older than 3 years"),
}
SEVERITY_NAMES = {"minor": _l("Minor"), "major": _l("Major"), "critical": _l("Critical (safety or fraud)")}
ROLE_NAMES = {"consumer": _l("Consumer"), "company": _l("Company"), "moderator": _l("Certification body"),
              "system": _l("Registry (automatic)")}
SANCTION_ACTION_NAMES = {"special_audit": _l("special audit required"), "lower_level": _l("level lowered by one"),
                         "suspend": _l("suspension")}
SANCTION_STATE_NAMES = {
    "proposed": _l("Proposed, awaiting decision"), "confirmed": _l("Confirmed and applied"), "rejected": _l("Rejected"),
    "superseded": _l("Replaced by a heavier proposal"), "appealed": _l("Appealed"),
    "appeal_upheld": _l("Appeal upheld"), "appeal_dismissed": _l("Appeal dismissed"),
}


def _name(table: dict, key: str | None) -> str:
    return str(table[key]) if key in table else (key or "—")


def state_name(state: str) -> str:
    return _name(STATE_NAMES, state)


def outcome_name(outcome: str | None) -> str:
    return _name(OUTCOME_NAMES, outcome)


def category_name(category: str) -> str:
    return _name(CATEGORY_NAMES, category)


def resolution_name(resolution: str) -> str:
    return _name(RESOLUTION_NAMES, resolution)


def rejection_reason_name(reason: str | None) -> str:
    return _name(REJECTION_REASON_NAMES, reason)


def severity_name(severity: str | None) -> str:
    return _name(SEVERITY_NAMES, severity)


def role_name(role: str) -> str:
    return _name(ROLE_NAMES, role)


def sanction_action_name(action: str) -> str:
    return _name(SANCTION_ACTION_NAMES, action)


def sanction_state_name(state: str) -> str:
    return _name(SANCTION_STATE_NAMES, state)


def public_account(summary) -> str:
    """The public text of a closed complaint, composed from its structured fields in the reader's language.

    Never the consumer's words (PIPL Art 25: publishing them would need separate consent); a moderator's
    checked summary is shown beside it, not instead of it.
    """
    from flask_babel import gettext as _
    parts = [_("Category: %(category)s.", category=category_name(summary.category))]
    if summary.desired_resolution:
        parts.append(_("The consumer asked for: %(resolution)s.", resolution=resolution_name(summary.desired_resolution)))
    if summary.accepted_on:
        parts.append(_("Accepted on %(day)s.", day=summary.accepted_on.isoformat()))
    if summary.first_response_on:
        parts.append(_("The company answered on %(day)s.", day=summary.first_response_on.isoformat()))
    elif summary.unanswered:
        parts.append(_("The company did not answer in time."))
    parts.append(_("Closed on %(day)s: %(outcome)s.", day=summary.closed_on.isoformat(),
                   outcome=outcome_name(summary.outcome)))
    return " ".join(parts)


# Reasons after which the consumer can simply file again with what was missing.
RESUBMITTABLE_REASONS = ("insufficient_information",)
REJECTION_NEXT_STEPS = {
    "insufficient_information": _l("Add what was missing (what happened, when, the order and what you asked the "
                                   "company) and file the complaint again."),
    "duplicate": _l("Your earlier complaint about the same matter is being handled: follow it with its own link."),
    "out_of_scope": _l("This certificate does not cover that product or service. You can complain to the "
                       "market regulator through the national 12315 platform (www.12315.cn or call 12315)."),
    "not_after_sales": _l("We handle complaints about after-sales service only. For product quality, prices or "
                          "contracts, use the national 12315 platform (www.12315.cn or call 12315)."),
    "older_than_3_years": _l("More than three years have passed. You can still ask the national 12315 platform "
                             "(www.12315.cn or call 12315) or a court whether they can help."),
    "abusive": _l("You may file again in plain words about what happened; the national 12315 platform "
                  "(www.12315.cn or call 12315) is also open to you."),
}


def rejection_next_steps(reason: str | None) -> str:
    """What a consumer whose complaint was not accepted can do next, in plain words."""
    return str(REJECTION_NEXT_STEPS.get(reason or "", REJECTION_NEXT_STEPS["out_of_scope"]))


def appeal_note(proposal) -> str:
    """Why an upheld appeal changed nothing, in the reader's language (the ledger keeps the zh-Hans record)."""
    cause = proposal.appeal_superseded_by
    if not cause:
        return ""
    from registry.presenters import ledger_kind_name, status_view
    if cause.startswith("status:"):
        return _("The appeal was upheld, but the certificate is now %(status)s, so nothing was changed.",
                 status=status_view(cause.split(":", 1)[1]).word)
    day = proposal.appeal_superseded_on.isoformat() if proposal.appeal_superseded_on else "—"
    return _("The appeal was upheld, but a later decision (%(kind)s, %(day)s) has since replaced what the "
             "sanction changed; that decision stands.", kind=ledger_kind_name(cause), day=day)
