"""The register in the import's own format (`flask certificates export FILE`).

What the registry holds is written as the import reads it: the stored status (the public status follows
from it and the dates by the same rule on both sides), the status details, the suspension end, a level
below the score's with its reason (taken from the ledger entry that set that level), the first issue date
and the recertification count. Importing the export into the same registry changes nothing and writes no
ledger entry; importing it into an empty registry gives the same public state (the history then starts
with the import). The first line states the day and the ledger head the file was taken at, so a later
import knows which of the registry's decisions the file already contains.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from registry import clock
from registry.certificates.importer import COLUMNS
from registry.certificates.models import Certificate
from registry.certificates.rules import CertificateStatus, judge
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from registry.ledger.services import head


def _iso(day) -> str:
    return day.isoformat() if day else ""


def _level_reasons(numbers: list[str]) -> dict[str, str]:
    """For each number, why its level is what it is: the reason of the ledger entry that last set the level."""
    reasons: dict[str, str] = {}
    last_level: dict[str, str | None] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start:start + 500]
        query = (select(LedgerEntry.certificate_number, LedgerEntry.level_after, LedgerEntry.kind, LedgerEntry.reason,
                        LedgerEntry.public_text, LedgerEntry.data)
                 .where(LedgerEntry.certificate_number.in_(chunk)).order_by(LedgerEntry.seq))
        for number, level_after, kind, reason, public_text, data in db.session.execute(query):
            if level_after is None or (number in last_level and last_level[number] == level_after):
                continue
            last_level[number] = level_after
            given = (data or {}).get("level_reason") if isinstance(data, dict) else None
            reasons[number] = (given or reason or public_text or kind).strip()
    return reasons


def register_rows() -> Iterator[dict]:
    """One dict per certificate, keyed by import column; lists stay lists (CSV joins them with ;)."""
    certificates = db.session.scalars(select(Certificate).options(joinedload(Certificate.company))
                                      .order_by(Certificate.number)).all()
    lower = [c.number for c in certificates
             if c.score is not None and judge(c.scheme, c.score).level is not None
             and c.scheme.level(c.level) is not None
             and c.scheme.level(c.level).min_score < judge(c.scheme, c.score).level.min_score]
    reasons = _level_reasons(lower)
    lower_set = set(lower)
    for certificate in certificates:
        company = certificate.company
        status = certificate.status
        not_valid = status != CertificateStatus.VALID.value
        yield {
            "certificate_number": certificate.number, "company_name": company.name, "uscc": company.uscc,
            "province": company.province, "city": company.city, "address": company.address,
            "industry": company.industry, "enterprise_type": company.enterprise_type,
            "scheme": certificate.scheme_id, "score": "" if certificate.score is None else str(certificate.score),
            "level": certificate.level,
            "level_reason": (reasons.get(certificate.number) or "登记簿现状 / as held by the registry")
            if certificate.number in lower_set else "",
            "scope": certificate.scope or "", "issued_on": _iso(certificate.issued_on),
            "expires_on": _iso(certificate.expires_on), "status": status,
            "last_surveillance_on": _iso(certificate.last_surveillance_on),
            "former_names": list(company.former_names or []), "service_sites": list(certificate.service_sites or []),
            "status_reason": (certificate.status_reason or "") if not_valid else "",
            "status_changed_on": _iso(certificate.status_changed_on) if not_valid else "",
            "suspended_until": _iso(certificate.suspended_until) if status == CertificateStatus.SUSPENDED.value else "",
            "first_issued_on": _iso(certificate.first_issued_on),
            "recertification_count": str(certificate.recertification_count or 0),
        }


def export_register(file_format: str = "csv") -> bytes:
    """The whole register as CSV (UTF-8 with BOM, as Excel opens it) or JSON Lines, with its header line."""
    last = head()
    meta = {"as_of": clock.today().isoformat(), "ledger_head_seq": last.seq if last else 0,
            "ledger_head_hash": last.hash if last else "0" * 64}
    if file_format == "jsonl":
        lines = [json.dumps({"export": meta}, ensure_ascii=False)]
        lines += [json.dumps(row, ensure_ascii=False) for row in register_rows()]
        return ("\n".join(lines) + "\n").encode("utf-8")
    out = io.StringIO()
    out.write("# " + " ".join(f"{key}={value}" for key, value in meta.items()) + "\r\n")
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    for row in register_rows():
        writer.writerow({key: ";".join(value) if isinstance(value, list) else value for key, value in row.items()})
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")
