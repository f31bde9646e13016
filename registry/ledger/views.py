"""Public ledger export (/ledger.jsonl): every entry, one JSON object per line, so anyone can recompute it."""
from __future__ import annotations

from flask import Blueprint, Response, request, stream_with_context, url_for
from flask_babel import gettext as _

from registry.errors import ValidationError
from registry.ledger import services
from registry.ledger.chain import export_line

bp = Blueprint("ledger", __name__)

MAX_PAGE = 10_000


def _int_arg(name: str, default: int | None, low: int, high: int | None) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(_("%(name)s must be a whole number.", name=name), fields={name: raw}) from None
    if value < low or (high is not None and value > high):
        raise ValidationError(_("%(name)s is out of range.", name=name), fields={name: raw})
    return value


@bp.route("/ledger.jsonl")
def export():
    """The chain as JSON Lines, oldest first. Without `limit` the whole chain is streamed; with
    `after_seq` and `limit` one page, and a Link header to the next page when more may follow."""
    after_seq = _int_arg("after_seq", 0, 0, 2**31 - 1)
    limit = _int_arg("limit", None, 1, MAX_PAGE)

    def lines():
        for entry in services.iter_entries(after_seq=after_seq, limit=limit):
            yield export_line(services.entry_fields(entry), entry.hash) + "\n"

    response = Response(stream_with_context(lines()), mimetype="application/x-ndjson")
    response.headers["Content-Disposition"] = "inline; filename=ledger.jsonl"
    response.headers["Cache-Control"] = "no-cache"
    if limit is not None:
        head = services.head()
        if head is not None and head.seq > after_seq + limit:
            response.headers["Link"] = f'<{url_for(".export", after_seq=after_seq + limit, limit=limit)}>; rel="next"'
    return response
