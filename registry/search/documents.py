"""Certificate → index document, as a pure function of the certificate and its company (no Flask, no DB).

The document stores the status rule's INPUTS (the stored status, expiry, end of a suspension, surveillance
due date), never the effective status: the index calls rules.effective_status with them for the day of
the query (see index.py), so a certificate that expires, or whose suspension or surveillance runs out,
overnight never needs re-indexing (nor the daily tick) to show what the rule says.
"""
from __future__ import annotations

from registry.schemes import get_scheme
from registry.search import analysis


def level_rank(scheme_id: str, level_id: str) -> int:
    """Sort key of a level: its stars (达标 = 0), so 五星 sorts above 四星 and 七星 above 五星."""
    scheme = get_scheme(scheme_id)
    level = scheme.level(level_id) if scheme else None
    return level.stars if level else -1


def day_number(day) -> int:
    """A date as a column value (its ordinal); 0 means none."""
    return day.toordinal() if day else 0


def certificate_document(certificate) -> dict:
    """The index document of one certificate (its `company` must be loaded)."""
    company = certificate.company
    former = [n for n in (company.former_names or []) if n]
    sites = [s for s in (certificate.service_sites or []) if s]
    names = [company.name, *former]
    places = [company.province, company.city, company.industry, *sites]
    return {
        "cert_id": str(certificate.id),
        "number_key": analysis.fold_key(certificate.number),
        "uscc_key": analysis.fold_key(company.uscc),
        "name_words": " ".join(analysis.words(company.name)),
        "former_words": " ".join(w for n in former for w in analysis.words(n)),
        "name_grams": " ".join(dict.fromkeys(g for n in names for g in analysis.grams(n))),
        "pinyin": " ".join(dict.fromkeys(p for n in names
                                         for p in analysis.pinyin(n, (company.province, company.city)))),
        "scope_words": " ".join(analysis.words(certificate.scope or "")),
        "place_words": " ".join(w for p in places if p for w in analysis.words(p)),
        "level": certificate.level,
        "status": certificate.status,
        "province": company.province or "",
        "industry": company.industry or "",
        "scheme": certificate.scheme_id,
        "issued": certificate.issued_on.toordinal(),
        "expires": certificate.expires_on.toordinal(),
        "suspended_until": day_number(certificate.suspended_until),
        "surveillance_due": day_number(certificate.surveillance_due),
        "level_rank": level_rank(certificate.scheme_id, certificate.level),
        "display": {
            "number": certificate.number,
            "name": company.name,
            "former_names": former,
            "scope": certificate.scope or "",
            "sites": sites,
            "province": company.province or "",
            "city": company.city or "",
            "industry": company.industry or "",
            "scheme_id": certificate.scheme_id,
            "level": certificate.level,
            "status": certificate.status,
            "issued_on": certificate.issued_on.isoformat(),
            "expires_on": certificate.expires_on.isoformat(),
        },
    }
