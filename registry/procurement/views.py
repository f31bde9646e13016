"""Procurement pages: bulk verification, signed receipts, the signing key, feeds and open data."""
from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from registry import clock
from registry.certificates.services import filter_choices
from registry.errors import ValidationError
from registry.extensions import db, limiter
from registry.i18n import LANG_COOKIE, normalise_locale
from registry.procurement import bulk, exports, feeds, receipts, services
from registry.procurement.models import Watchlist  # noqa: F401  (create_all sees the table)

bp = Blueprint("procurement", __name__)

MAX_RECEIPT_BYTES = 5 * 1024 * 1024


def bulk_limit() -> str:
    return current_app.config["BULK_RATE_LIMIT"]


def _read_error(code: str, limit: int) -> str:
    return {
        "too_many": _("At most %(n)s lines at a time. Split the list and check it in parts.", n=limit),
        "too_large": _("The file is too large (at most 2 MB)."),
        "encoding": _("The file's text encoding could not be read. Save it as UTF-8 CSV or as XLSX."),
        "old_excel": _("Old .xls files cannot be read. Save the sheet as .xlsx or CSV."),
        "unreadable": _("The file could not be read as CSV or XLSX."),
        "too_many_cells": _("The spreadsheet holds more than a bulk check reads (at most %(rows)s rows, %(cells)s "
                            "cells and %(strings)s distinct texts). Copy the column of identifiers into a new "
                            "file, or save it as CSV.", rows=bulk.MAX_XLSX_ROWS, cells=bulk.MAX_XLSX_CELLS,
                            strings=bulk.MAX_XLSX_SHARED_STRINGS),
    }.get(code, _("The file could not be read as CSV or XLSX."))


def _identifiers_from_request(limit: int = bulk.PAGE_MAX_IDENTIFIERS) -> list[str]:
    """Identifiers from the uploaded file if there is one, else from the text box.

    Raises:
        ValidationError: unreadable file, too many lines, or nothing entered.
    """
    upload = request.files.get("file")
    try:
        if upload is not None and upload.filename:
            identifiers = bulk.parse_upload(upload.filename, upload.read(bulk.MAX_UPLOAD_BYTES + 1), limit)
            field = "file"
        else:
            identifiers = bulk.parse_text(request.form.get("identifiers", ""), limit)
            field = "identifiers"
    except ValueError as error:
        message = _read_error(str(error), limit)
        raise ValidationError(message, fields={"file" if upload and upload.filename else "identifiers": message}) from error
    if not identifiers:
        message = _("Enter at least one certificate number, credit code or company name.")
        raise ValidationError(message, fields={field: message})
    return identifiers


def _on_date() -> dt.date | None:
    return services.parse_day(request.form.get("on"), "on")


@bp.route("/verify/bulk", methods=["GET", "POST"])
@limiter.limit(bulk_limit, methods=["POST"])
def bulk_verify():
    if request.method == "GET":
        return render_template("procurement/bulk.html", form={}, errors={}, result=None)
    form = {"identifiers": request.form.get("identifiers", ""), "on": request.form.get("on", "")}
    try:
        identifiers = _identifiers_from_request()
        on = _on_date()
    except ValidationError as error:
        return render_template("procurement/bulk.html", form=form, errors=error.fields, message=error.message,
                               result=None), 422
    result = bulk.verify_identifiers(identifiers, on)
    form["identifiers"] = "\n".join(identifiers)
    failing = result.failing()
    only_failing = request.form.get("only") == "failing"
    response = make_response(render_template(
        "procurement/bulk.html", form=form, errors={}, result=result, identifiers="\n".join(identifiers),
        words=exports, failing=failing, only_failing=only_failing,
        shown=set(failing) if only_failing else set(range(len(result.rows)))))
    # The language switch on a result page posts the list again (?lang=): keep the choice, as the switch does.
    chosen = normalise_locale(request.args.get("lang"))
    if chosen:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def _rerun() -> tuple[bulk.BulkResult, list[str]]:
    """Export and receipt forms post the checked identifiers back; they are checked again, now."""
    identifiers = _identifiers_from_request()
    return bulk.verify_identifiers(identifiers, _on_date()), identifiers


def _stamp() -> str:
    return clock.now().strftime("%Y%m%d-%H%M%S")


@bp.route("/verify/bulk/export.<fmt>", methods=["POST"])
@limiter.limit(bulk_limit)
def bulk_export(fmt: str):
    if fmt not in ("csv", "xlsx"):
        return redirect(url_for(".bulk_verify"))
    result, _identifiers = _rerun()
    if fmt == "csv":
        body, mimetype = exports.bulk_csv(result), "text/csv; charset=utf-8"
    else:
        body, mimetype = exports.bulk_xlsx(result), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, content_type=mimetype, headers={
        "Content-Disposition": f"attachment; filename=verification-{_stamp()}.{fmt}"})


@bp.route("/verify/bulk/receipt", methods=["POST"])
@limiter.limit(bulk_limit)
def bulk_receipt():
    result, identifiers = _rerun()
    document = services.issue_receipt(result, identifiers)
    db.session.commit()  # the checkpoint the receipt cites is kept for good
    text = receipts.dumps(document)
    if request.form.get("format") == "json":
        return Response(text, mimetype="application/json", headers={
            "Content-Disposition": f"attachment; filename=receipt-{_stamp()}.json"})
    return render_template("procurement/receipt.html", document=document, text=text, result=result, words=exports)


@bp.route("/verify/receipt", methods=["GET", "POST"])
@limiter.limit(bulk_limit, methods=["POST"])
def receipt_check():
    if request.method == "GET":
        return render_template("procurement/receipt_check.html", outcome=None, text="")
    upload = request.files.get("file")
    text = request.form.get("receipt", "")
    if upload is not None and upload.filename:
        raw = upload.read(MAX_RECEIPT_BYTES + 1)
        text = raw.decode("utf-8", errors="replace") if len(raw) <= MAX_RECEIPT_BYTES else ""
    if not text.strip():
        return render_template("procurement/receipt_check.html", outcome=None, text="",
                               message=_("Paste a receipt or choose its file.")), 422
    checked = services.check_receipt(text)
    shown = text if len(text) < 200_000 else ""
    if not checked.genuine:
        return render_template("procurement/receipt_check.html", outcome="invalid", reason=checked.reason, text=shown)
    return render_template("procurement/receipt_check.html", outcome="valid", body=checked.body,
                           key_id=checked.key_id, text=shown)


@bp.route("/.well-known/registry-signing-key")
def signing_key():
    public_key = services.current_signing_key().public_key()
    response = jsonify({
        "algorithm": receipts.ALGORITHM, "key_id": receipts.fingerprint(public_key),
        "public_key_pem": receipts.public_key_pem(public_key),
        "registry": services.registry_identity(),
        "receipt_format": "Ed25519 signature (hex) over the canonical JSON (sorted keys, no spaces, UTF-8) "
                          "of the document's `receipt` member",
    })
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


# ---------------------------------------------------------------- feeds

def _atom(info: feeds.FeedInfo, entries) -> Response:
    response = Response(feeds.render_feed(info, entries), mimetype="application/atom+xml")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/feeds")
def feeds_index():
    return _feeds_page()


def _feeds_page(status: int = 200, **context):
    context = {"form": {}, "errors": {}, "watchlist": None, **context}
    return render_template("procurement/feeds.html", provinces=filter_choices()["province"], **context), status


@bp.route("/feeds/changes.atom")
def feed_all():
    info = feeds.FeedInfo(_("All status and level changes"), "/feeds/changes.atom", "/certificates")
    return _atom(info, services.recent_changes())


@bp.route("/feeds/certificates/<number>.atom")
def feed_certificate(number: str):
    certificate, entries = services.changes_of_certificate(number)
    info = feeds.FeedInfo(_("Changes to certificate %(number)s", number=certificate.number),
                          f"/feeds/certificates/{certificate.number}.atom", f"/certificates/{certificate.number}")
    return _atom(info, entries)


@bp.route("/feeds/provinces/<province>.atom")
def feed_province(province: str):
    entries = services.changes_in_province(province)
    info = feeds.FeedInfo(_("Changes to certificates in %(province)s", province=province),
                          url_for(".feed_province", province=province), f"/certificates?province={province}")
    return _atom(info, entries)


def watch_limit() -> str:
    return current_app.config["WATCH_RATE_LIMIT"]


@bp.route("/feeds/watch", methods=["POST"])
@limiter.limit(watch_limit)
def watch_create():
    form = {"usccs": request.form.get("usccs", "")}
    try:
        watchlist = services.create_watchlist(form["usccs"])
    except ValidationError as error:
        return _feeds_page(422, form=form, errors=error.fields, message=error.message)
    db.session.commit()
    return redirect(url_for(".watch_show", token=watchlist.token))


@bp.route("/feeds/watch/<token>")
def watch_show(token: str):
    watchlist = services.get_watchlist(token)
    return _feeds_page(watchlist=watchlist,
                       names={c.uscc: c.name for c in services.watched_companies(watchlist)},
                       feed_url=current_app.config["PUBLIC_BASE_URL"].rstrip("/")
                       + url_for(".feed_watchlist", token=watchlist.token))


@bp.route("/feeds/watch/<token>.atom")
def feed_watchlist(token: str):
    watchlist = services.get_watchlist(token)
    info = feeds.FeedInfo(_("Changes to your watched suppliers"), f"/feeds/watch/{watchlist.token}.atom",
                          f"/feeds/watch/{watchlist.token}")
    return _atom(info, services.changes_of_watchlist(watchlist))


# ---------------------------------------------------------------- open data

@bp.route("/data")
def data_index():
    head = services.ledger_head()
    public_key = services.current_signing_key().public_key()
    return render_template("procurement/data.html", head=head, key_id=receipts.fingerprint(public_key))


def _open_data(kind: str, mimetype: str) -> Response:
    export = exports.open_data(kind)
    response = Response(export.body, content_type=mimetype)  # mimetype= would add a second charset
    response.headers["X-Ledger-Head-Seq"] = str(export.head_seq)
    response.headers["X-Ledger-Head-Hash"] = export.head_hash
    response.headers["Cache-Control"] = f"public, max-age={exports.OPEN_DATA_MAX_AGE}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.set_etag(export.etag, weak=True)
    return response.make_conditional(request)


@bp.route("/data/certificates.csv")
def data_csv():
    return _open_data("csv", "text/csv; charset=utf-8")


@bp.route("/data/certificates.jsonl")
def data_jsonl():
    return _open_data("jsonl", "application/jsonl; charset=utf-8")
