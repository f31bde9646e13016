"""Reading ?page= the same way everywhere: junk means page 1, and huge numbers are capped."""
from __future__ import annotations

from flask import request

# Beyond this an OFFSET overflows PostgreSQL's bigint; nobody pages that far by hand.
MAX_PAGE = 10_000


def page_arg(name: str = "page") -> int:
    """The requested page number, between 1 and MAX_PAGE."""
    try:
        return min(max(1, int(request.args.get(name, 1))), MAX_PAGE)
    except (TypeError, ValueError):
        return 1
