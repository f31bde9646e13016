"""What a signed-in company sees first: its certificates (status, level, surveillance due, QR and mark files),
the complaints waiting for its answer and its sanction proposals."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from registry import clock
from registry.certificates.models import Certificate, Company
from registry.errors import PermissionDenied
from registry.extensions import db

OPEN_PROPOSAL_STATES = ("proposed", "appealed")


@dataclass
class CompanyHome:
    company: Company | None
    certificates: list = field(default_factory=list)  # (certificate, status today)
    complaints_waiting: int = 0
    proposals_open: int = 0


def company_home(user) -> CompanyHome:
    """The signed-in company's own records, never another company's.

    Raises:
        PermissionDenied
    """
    from registry.complaints.models import Complaint, SanctionProposal
    from registry.complaints.rules import State
    if not user.has_role("company"):
        raise PermissionDenied()
    if user.company_id is None:
        return CompanyHome(None)
    company = db.session.get(Company, user.company_id)
    today = clock.today()
    certificates = db.session.scalars(select(Certificate).where(Certificate.company_id == user.company_id)
                                      .order_by(Certificate.issued_on.desc())).all()
    waiting = db.session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.company_id == user.company_id, Complaint.state == State.ACCEPTED.value)) or 0
    proposals = db.session.scalar(select(func.count()).select_from(SanctionProposal).where(
        SanctionProposal.company_id == user.company_id, SanctionProposal.state.in_(OPEN_PROPOSAL_STATES))) or 0
    return CompanyHome(company, [(c, c.effective_status(today)) for c in certificates], waiting, proposals)


def open_proposals(limit: int = 50) -> list:
    """Sanction proposals an officer still has to decide (proposed or appealed), oldest first."""
    from registry.complaints.models import SanctionProposal
    return list(db.session.scalars(select(SanctionProposal).where(SanctionProposal.state.in_(OPEN_PROPOSAL_STATES))
                                   .order_by(SanctionProposal.id).limit(limit)))
