"""Ready-made display values for templates: status words, icons and explanations, level labels.

Status is never shown by colour alone: every status has an icon, a word and a CSS class.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import gettext as _

from registry.certificates.rules import CertificateStatus
from registry.schemes import get_scheme


def current_locale() -> str:
    return str(get_locale() or "zh_Hans")


@dataclass(frozen=True)
class StatusView:
    code: str
    word: str
    icon: str
    css: str
    meaning: str
    advice: str
    is_valid: bool


def status_view(status: CertificateStatus | str) -> StatusView:
    """Icon, word, colour class and plain-language meaning of a certificate status."""
    status = CertificateStatus(status)
    if status is CertificateStatus.VALID:
        return StatusView(status.value, _("Valid"), "✔", "status-valid",
                          _("The certificate is in force. The company may use the mark within the scope below."),
                          "", True)
    if status is CertificateStatus.SUSPENDED:
        return StatusView(status.value, _("Suspended"), "‖", "status-suspended",
                          _("The certificate is suspended: the company may not use the certificate or the mark until it is restored."),
                          _("Do not rely on the mark for now. If you see it in use, you may report it."), False)
    if status is CertificateStatus.REVOKED:
        return StatusView(status.value, _("Revoked"), "✖", "status-revoked",
                          _("The certification body has revoked this certificate. The mark must no longer be used."),
                          _("Do not rely on the mark. If you see it in use, please report it."), False)
    if status is CertificateStatus.WITHDRAWN:
        return StatusView(status.value, _("Withdrawn"), "⊘", "status-withdrawn",
                          _("This certificate has been withdrawn (cancelled) and is no longer in force."),
                          _("Do not rely on the mark. If you see it in use, please report it."), False)
    return StatusView(status.value, _("Expired"), "○", "status-expired",
                      _("The certificate's validity has ended and it was not renewed."),
                      _("Do not rely on the mark. If you see it in use, please report it."), False)


def all_status_views() -> list[StatusView]:
    return [status_view(s) for s in CertificateStatus]


def level_name(scheme_id: str, level_id: str | None) -> str:
    """The level's words in the current language, e.g. 四星 / Four stars."""
    scheme = get_scheme(scheme_id)
    level = scheme.level(level_id) if scheme and level_id else None
    if level is None:
        return level_id or "—"
    return level.name(current_locale())


def level_stars(scheme_id: str, level_id: str | None) -> str:
    """Star glyphs for the level; long ladders (七星…) are written as a count."""
    scheme = get_scheme(scheme_id)
    level = scheme.level(level_id) if scheme and level_id else None
    if level is None or level.stars == 0:
        return ""
    return "★" * level.stars if level.stars <= 5 else f"{level.stars}★"


def scheme_name(scheme_id: str, short: bool = False) -> str:
    scheme = get_scheme(scheme_id)
    if scheme is None:
        return scheme_id
    return scheme.short_name(current_locale()) if short else scheme.name(current_locale())


def enterprise_type_name(value: str) -> str:
    return {"production": _("Manufacturer"), "sales_service": _("Sales and service")}.get(value, value)


def fmt_date(day: dt.date | None) -> str:
    return day.isoformat() if day else "—"


def fmt_score(score) -> str:
    return "—" if score is None else f"{score:.2f}"


def audit_kind_name(kind: str) -> str:
    return {"initial": _("Initial audit"), "surveillance": _("Surveillance audit"),
            "recertification": _("Recertification audit"), "special": _("Special audit")}.get(kind, kind)


def ledger_text(entry) -> str:
    """A ledger entry's public text in the reader's language (rendered from its message id and parameters)."""
    from registry.ledger.messages import entry_text
    return entry_text(entry)


def ledger_reason(entry) -> str:
    """A ledger entry's reason: the actor's words, or the registry's own reason in the reader's language."""
    from registry.ledger.messages import entry_reason
    return entry_reason(entry)


def ledger_kind_name(kind: str) -> str:
    """Words for ledger entry kinds; domains that add kinds add their words here."""
    return {
        "issued": _("Issued"), "imported": _("Entered into the register"), "audit_recorded": _("Audit recorded"),
        "level_changed": _("Level changed"), "suspended": _("Suspended"), "restored": _("Restored"),
        "revoked": _("Revoked"), "withdrawn": _("Withdrawn"), "expired": _("Expired"), "renewed": _("Renewed"),
        "updated": _("Public details changed"), "complaint_outcome": _("Complaint outcome"),
        "sanction": _("Sanction"), "suspension_changed": _("Suspension end changed"),
    }.get(kind, kind)
