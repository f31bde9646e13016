"""Search use cases: exact identifier lookup, search through the index, database fallback.

Services never commit.
"""
from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass, field

from sqlalchemy import String, case, cast, func, literal, or_, select
from sqlalchemy.orm import contains_eager

from registry import clock
from registry.certificates.models import Certificate, Company, status_policy
from registry.certificates.services import CertificateFilters, effective_status_expr, status_condition
from registry.extensions import db
from registry.schemes import all_schemes
from registry.search import analysis, register_is_empty, state
from registry.search.index import SORTS, IndexUnavailable, run_search
from registry.search.schema import FACET_FIELDS

log = logging.getLogger(__name__)
MAX_QUERY_LENGTH = 200
MAX_PAGE = 500


@dataclass
class SearchRequest:
    q: str = ""
    filters: CertificateFilters = field(default_factory=CertificateFilters)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20

    @classmethod
    def from_args(cls, args, per_page: int = 20) -> SearchRequest:
        """Read a query string; anything odd becomes a default, never an error."""
        q = (args.get("q") or "").strip()[:MAX_QUERY_LENGTH]
        sort = args.get("sort") or "relevance"
        if sort not in SORTS:
            sort = "relevance"
        try:
            page = min(max(1, int(args.get("page", 1))), MAX_PAGE)
        except (TypeError, ValueError):
            page = 1
        return cls(q=q, filters=CertificateFilters.from_args(args), sort=sort, page=page, per_page=per_page)

    @property
    def words(self) -> list[str]:
        return analysis.split_query(self.q)

    def args(self, **changes) -> dict:
        """Query-string arguments reproducing this request (for links), with changes applied."""
        values = {"q": self.q or None, "sort": self.sort if self.sort != "relevance" else None,
                  **self.filters.active()}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}


@dataclass
class SearchOutcome:
    request: SearchRequest
    hits: list[dict]
    total: int
    facets: dict[str, list[tuple[str, int]]]
    degraded: bool = False
    today: dt.date | None = None

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.request.per_page))

    @property
    def page(self) -> int:
        return self.request.page

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def exact_certificate_number(q: str) -> str | None:
    """The number of the certificate an exact number or USCC (any case, spaces, dashes, full-width)
    names; None if it names none or a company with several certificates."""
    key = analysis.fold_key(q)
    if len(key) < 6 or len(key) > 40:
        return None
    number = db.session.scalar(select(Certificate.number).where(func.upper(Certificate.number) == key))
    if number:
        return number
    numbers = db.session.scalars(select(Certificate.number).join(Certificate.company)
                                 .where(Company.uscc == key).limit(2)).all()
    return numbers[0] if len(numbers) == 1 else None


def search(request: SearchRequest) -> SearchOutcome:
    """Search the index; if it is missing or broken, answer from the database and say so."""
    today = clock.today()
    s = state()
    try:
        # The index answers status filters, facets and each hit's status with the status rule itself
        # (index.segment_statuses), from the inputs its documents store.
        answer = run_search(s.holder, request.words, request.filters.active(), request.sort, request.page,
                            request.per_page, today, status_policy())
        return SearchOutcome(request, answer.hits, answer.total, answer.facets, degraded=False, today=today)
    except IndexUnavailable as error:
        if str(error) == "missing" and register_is_empty():
            return SearchOutcome(request, [], 0, {}, degraded=False, today=today)
        log.warning("search index unavailable (%s); using the database fallback", error)
    except Exception as error:
        log.exception("search index failed; using the database fallback")
        s.holder.mark_broken(error)  # until the index changes: /healthz reports it, searches skip it
    return search_database(request, today)


# -- database fallback --------------------------------------------------------------

def _level_rank_expr():
    whens = [((Certificate.scheme_id == scheme.id) & (Certificate.level == level.id), literal(level.stars))
             for scheme in all_schemes().values() for level in scheme.levels]
    return case(*whens, else_=literal(-1)) if whens else literal(0)


def _conditions(request: SearchRequest, today: dt.date) -> list:
    conditions = []
    f = request.filters
    if f.level:
        conditions.append(Certificate.level == f.level)
    if f.scheme:
        conditions.append(Certificate.scheme_id == f.scheme)
    if f.status:
        conditions.append(status_condition(f.status, today))
    if f.province:
        conditions.append(Company.province == f.province)
    if f.industry:
        conditions.append(Company.industry == f.industry)
    for word in request.words:
        like = f"%{word}%"  # split_query keeps letters and digits only: no LIKE wildcards get through
        key = analysis.fold_key(word)
        conditions.append(or_(func.lower(Company.name).like(like), func.lower(Certificate.scope).like(like),
                              func.lower(cast(Company.former_names, String)).like(like),
                              Company.city.like(like), Company.province.like(like), Company.industry.like(like),
                              func.upper(Certificate.number) == key, Company.uscc == key))
    return conditions


def search_database(request: SearchRequest, today: dt.date) -> SearchOutcome:
    """Plain SQL substring search with the same filters, sorts and facets, used while the index is missing or
    broken. Slower, and it folds only the query: no pinyin, and text stored in traditional characters
    (some former names) is matched only as typed."""
    conditions = _conditions(request, today)
    base = (select(Certificate).join(Certificate.company).options(contains_eager(Certificate.company))
            .where(*conditions))
    if request.sort == "level":
        order = [_level_rank_expr().desc(), Certificate.issued_on.desc(), Certificate.id.desc()]
    else:
        order = [Certificate.issued_on.desc(), Certificate.id.desc()]
    total = db.session.scalar(select(func.count()).select_from(Certificate).join(Certificate.company)
                              .where(*conditions)) or 0
    rows = db.session.scalars(base.order_by(*order).offset((request.page - 1) * request.per_page)
                              .limit(request.per_page)).all()
    hits = [{**_display(c), "effective_status": c.effective_status(today).value} for c in rows]
    columns = {"level": Certificate.level, "status": effective_status_expr(today), "province": Company.province,
               "industry": Company.industry, "scheme": Certificate.scheme_id}
    facets = {}
    for name in FACET_FIELDS:
        column = columns[name]
        counted = db.session.execute(select(column, func.count()).select_from(Certificate).join(Certificate.company)
                                     .where(*conditions).group_by(column)).all()
        facets[name] = sorted(((str(v), n) for v, n in counted if v), key=lambda item: (-item[1], item[0]))
    return SearchOutcome(request, hits, total, facets, degraded=True, today=today)


def _display(c: Certificate) -> dict:
    company = c.company
    return {"cert_id": c.id, "number": c.number, "name": company.name, "former_names": list(company.former_names or []),
            "uscc": company.uscc, "scope": c.scope or "", "sites": list(c.service_sites or []),
            "province": company.province, "city": company.city, "industry": company.industry,
            "scheme_id": c.scheme_id, "level": c.level, "status": c.status,
            "issued_on": c.issued_on.isoformat(), "expires_on": c.expires_on.isoformat()}

