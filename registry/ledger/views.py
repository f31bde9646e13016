"""Public ledger export (/ledger.jsonl): every entry, one JSON object per line, so anyone can recompute it."""
from __future__ import annotations

import base64

from flask import Blueprint, Response, jsonify, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _

from registry.errors import ValidationError
from registry.extensions import db
from registry.ledger import services, tlog
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


# ---------------------------------------------------------------- transparency log (docs/transparency.md)

MAX_TREE_SIZE = 2**62


def _proof_arg(name: str, low: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        raise _BadProofRequest(_("%(name)s is required.", name=name), name)
    if not raw.isascii() or not raw.isdigit():
        raise _BadProofRequest(_("%(name)s must be a whole number.", name=name), name)
    value = int(raw)
    if value < low or value > MAX_TREE_SIZE:
        raise _BadProofRequest(_("%(name)s is out of range.", name=name), name)
    return value


class _BadProofRequest(Exception):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.message, self.field = message, field


@bp.errorhandler(_BadProofRequest)
def _bad_proof_request(error: _BadProofRequest):
    # Proof endpoints answer JSON to every client: they are read by programs, not people.
    return jsonify({"error": {"code": "bad_request", "message": error.message,
                              "fields": {error.field: error.message}}}), 400


def _proof_problem(error: tlog.ProofRequestInvalid, size_field: str):
    messages = {
        "index_outside": (_("index must be smaller than size."), "index"),
        "sizes_order": (_("from must be at least 1 and not larger than to."), "from"),
        "size_too_large": (_("The log is not that large yet: at most %(size)d entries.", size=tlog.tree_size()),
                           size_field),
    }
    message, field = messages[error.code]
    return _BadProofRequest(message, field)


def _checkpoint_json(checkpoint) -> dict:
    return {"origin": tlog.origin(), "tree_size": checkpoint.tree_size,
            "root_hash": base64.b64encode(checkpoint.root_hash).decode(),
            "issued_at": tlog.issued_at_text(checkpoint), "checkpoint": checkpoint.note}


@bp.route("/ledger/checkpoint")
def checkpoint():
    """The latest signed checkpoint as a C2SP note (text/plain); `?format=json` wraps it with its fields."""
    current = tlog.current_checkpoint()
    db.session.commit()
    if request.args.get("format") == "json":
        return jsonify(_checkpoint_json(current))
    return Response(current.note, mimetype="text/plain", headers={"Cache-Control": "no-cache"})


@bp.route("/ledger/checkpoints")
def checkpoints():
    """Every checkpoint ever issued, newest first, 100 a page (`?before=SIZE` for the next)."""
    before = _int_arg("before", None, 1, MAX_TREE_SIZE)
    issued = tlog.list_checkpoints(limit=100, before=before)
    if request.args.get("format") == "json" or request.accept_mimetypes.best == "application/json":
        return jsonify({"checkpoints": [_checkpoint_json(c) for c in issued]})
    return render_template("ledger/checkpoints.html", checkpoints=[_checkpoint_json(c) for c in issued], origin=tlog.origin(),
                           verifier_key=tlog.verifier_key(),
                           next_before=issued[-1].tree_size if len(issued) == 100 else None)


@bp.route("/ledger/key")
def verifier_key():
    """The signed-note verifier key that checks every checkpoint (publish its fingerprint with the README's)."""
    return Response(tlog.verifier_key() + "\n", mimetype="text/plain")


@bp.route("/ledger/proof/inclusion")
def inclusion_proof():
    """RFC 9162 inclusion proof of leaf `index` (0-based: ledger seq − 1) in the tree of `size` entries."""
    index, size = _proof_arg("index", 0), _proof_arg("size", 1)
    try:
        proof = tlog.inclusion_proof(index, size)
    except tlog.ProofRequestInvalid as error:
        raise _proof_problem(error, "size") from None
    return jsonify({"index": index, "tree_size": size, "root_hash": base64.b64encode(tlog.root(size)).decode(),
                    "inclusion_path": tlog.b64(proof)})


@bp.route("/ledger/proof/consistency")
def consistency_proof():
    """RFC 9162 consistency proof that the tree of `from` entries is a prefix of the tree of `to` entries."""
    old, new = _proof_arg("from", 1), _proof_arg("to", 1)
    try:
        proof = tlog.consistency_proof(old, new)
    except tlog.ProofRequestInvalid as error:
        raise _proof_problem(error, "to") from None
    return jsonify({"from": old, "to": new, "first_hash": base64.b64encode(tlog.root(old)).decode(),
                    "second_hash": base64.b64encode(tlog.root(new)).decode(), "consistency_path": tlog.b64(proof)})
