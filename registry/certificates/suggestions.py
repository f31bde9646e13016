""""Did you mean": plausible certificates for a verify-box entry that matched nothing exactly.

The verify box may tell a consumer that a mark "may be forged" only when the entry is a complete identifier
(a whole certificate number, a valid credit code, a full company name) and nothing plausible is registered.
A fragment of a real company's name or number must lead to that company, never to the word "forged".
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import joinedload

from registry.certificates.identifiers import fold, is_valid_uscc
from registry.certificates.models import Certificate, Company
from registry.extensions import db

# Words that say what kind of company, not which one: a fragment made only of these identifies nobody.
GENERIC_WORDS = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司", "分公司", "服务", "科技", "电器", "家电",
                 "电子", "实业", "贸易", "商贸", "销售", "中心", "门店", "专卖店", "店")
# Endings of a full registered name: only an entry ending like this is "a full name".
FULL_NAME_ENDINGS = ("公司", "厂", "中心", "店", "商行", "合作社", "事务所", "部", "院", "馆", "LTD", "LIMITED",
                     "CO", "INC", "CORP", "CORPORATION", "COMPANY")
_NUMBER_SHAPE = re.compile(r"^[0-9]{3,}[A-Z]{1,4}[0-9]{3,}[A-Z][0-9]+$")
MIN_NUMBER_FRAGMENT = 6
MIN_NAME_FRAGMENT = 2


@dataclass(frozen=True)
class Suggestions:
    """What the verify box says when nothing matched exactly."""
    certificates: list
    complete: bool  # the entry was a whole identifier (only then may "forged" be said, and only if nothing matched)


def name_key(text: str) -> str:
    """A company name compared loosely: NFKC (width), no spaces, upper case, one kind of bracket."""
    text = unicodedata.normalize("NFKC", text or "")
    return "".join(text.split()).upper().replace("(", "（").replace(")", "）")


def is_complete_identifier(text: str) -> bool:
    """True for a whole certificate number, a valid credit code or a full company name; False for fragments."""
    folded = fold(text)
    if len(folded) == 18 and is_valid_uscc(folded):
        return True
    if folded.isascii() and folded.isalnum():
        return bool(_NUMBER_SHAPE.match(folded))
    key = name_key(text).rstrip(".")
    return len(key) >= 4 and key.endswith(FULL_NAME_ENDINGS)


def _name_core(key: str) -> str:
    """The distinctive part of a name fragment (brand, place): the generic words taken out."""
    core = key
    for word in GENERIC_WORDS:
        core = core.replace(word, "")
    return core


def suggest(query: str, limit: int = 10) -> Suggestions:
    """Certificates a person typing `query` plausibly meant: number or credit-code prefixes, names (current or
    former) containing the entry or its distinctive part, in any width or case. Newest first."""
    text = (query or "").strip()[:200]
    complete = is_complete_identifier(text)
    if not text:
        return Suggestions([], complete)
    base = (select(Certificate).join(Certificate.company).options(joinedload(Certificate.company))
            .order_by(Certificate.issued_on.desc(), Certificate.id.desc()).limit(limit))
    folded = fold(text)
    conditions = []
    if folded.isascii() and folded.isalnum() and len(folded) >= MIN_NUMBER_FRAGMENT:
        bare = func.upper(func.replace(func.replace(Certificate.number, "-", ""), " ", ""))
        conditions += [bare.like(_prefix(folded), escape="\\"), func.upper(Company.uscc).like(_prefix(folded), escape="\\")]
    key = name_key(text)
    fragments = [f for f in dict.fromkeys([key, _name_core(key)]) if len(f) >= MIN_NAME_FRAGMENT]
    for fragment in fragments:
        conditions.append(func.upper(Company.name).like(f"%{_escape(fragment)}%", escape="\\"))
        plain = fragment.replace("（", "(").replace("）", ")")
        if plain != fragment:
            conditions.append(func.upper(Company.name).like(f"%{_escape(plain)}%", escape="\\"))
    found = list(db.session.scalars(base.where(or_(*conditions))).unique().all()) if conditions else []
    core = _name_core(key)
    if not found and len(core) >= 2 * MIN_NAME_FRAGMENT and not core.isascii():
        # Words in another order ("杭州朔乐" for "朔乐电器（杭州）有限公司"): every pair of characters in the name.
        pairs = [core[i:i + 2] for i in range(0, len(core) - 1, 2)]
        found = list(db.session.scalars(base.where(*[Company.name.like(f"%{_escape(p)}%", escape="\\")
                                                     for p in pairs])).unique().all())
    if len(found) < limit and fragments:
        # Former names live in a JSON list: compare in Python over the (few) companies that have any.
        with_former = db.session.execute(
            select(Company.id, Company.former_names).where(Company.former_names.is_not(None))
            .where(cast(Company.former_names, String) != "[]")).all()
        ids = [cid for cid, names in with_former
               if any(fragment in name_key(name) for name in (names or []) for fragment in fragments)]
        if ids:
            seen = {c.id for c in found}
            more = db.session.scalars(base.where(Company.id.in_(ids))).unique().all()
            found += [c for c in more if c.id not in seen][: limit - len(found)]
    return Suggestions(found, complete)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _prefix(folded: str) -> str:
    return f"{_escape(folded)}%"
