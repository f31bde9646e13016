"""QR verification pages (/v/<number>), QR images, the star mark, and fake-mark reports."""
from __future__ import annotations

import threading
from collections import OrderedDict

from flask import (
    Blueprint,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import force_locale, get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from jinja2.ext import _make_new_gettext
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from registry import clock, presenters
from registry.accounts.decorators import role_required
from registry.certificates import explain, qr, reports, services, verification, verify_cache
from registry.certificates.models import status_policy
from registry.certificates.rules import CertificateStatus
from registry.errors import NotFound, ValidationError
from registry.extensions import db, limiter
from registry.i18n import select_locale
from registry.paging import page_arg

bp = Blueprint("verify", __name__)

QR_MAX_AGE = 86400       # a QR depends only on the number and the key
MARK_MAX_AGE = 300       # a mark depends on level and status: short, so a suspension stops it soon


def _key() -> bytes:
    return qr.check_key(current_app.config["SECRET_KEY"], current_app.config.get("QR_SECRET"))


def _base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


def _certificate_or_404(number: str):
    certificate = services.find_certificate(number)
    if certificate is None:
        raise NotFound(_("No certificate with this number is in the registry."))
    return certificate


# ---------------------------------------------------------------- the verification page

@bp.route("/v/<number>")
def verify(number: str):
    """The page a QR leads to: is this mark real, which level, valid until when."""
    certificate = verify_cache.facts_cache().get_or_load(number, lambda: services.verification_facts(number))
    if certificate is None:
        return render_template("verify/not_found.html", number=number[:60]), 404
    today = clock.today()
    checked_at = f"{today.isoformat()} {clock.now():%H:%M}"
    printed = (request.args.get("l") or "").strip()[:20]
    day_raw = (request.args.get("on") or "").strip()[:40]
    # The common case (a scanned QR, anonymous visitor) reuses a page rendered from exactly the same facts: the
    # key holds the facts shown, the language, the day and the query string (hence the check code's result), so
    # a change to the certificate is never served stale. Not for signed-in or remembered visitors (their header
    # differs) nor sessions with pending messages.
    if (not day_raw and printed in ("", certificate.level) and not session
            and "remember_token" not in request.cookies):
        cache = current_app.extensions.get("verify_page_cache") or current_app.extensions.setdefault(
            "verify_page_cache", _PageCache())
        # select_locale() is the string Flask-Babel will use; calling it avoids building a babel Locale on hits.
        key = (certificate, select_locale(), today, request.full_path)
        html = cache.get(key)
        if html is None:
            html, _error = _render_verify(certificate, today, _CHECKED_AT, "", "")
            cache.put(key, html)
        return _verify_response(html.replace(_CHECKED_AT, checked_at), 200)
    html, day_error = _render_verify(certificate, today, checked_at, printed, day_raw)
    return _verify_response(html, 400 if day_error else 200)


def _verify_response(html: str, status: int):
    response = make_response(html, status)
    # The answer is live: never serve it from a cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _render_verify(certificate, today, checked_at: str, printed: str, day_raw: str) -> tuple[str, str | None]:
    """The page and the date error (if the typed date was unusable)."""
    status = certificate.effective_status(today)
    check = _check_result(certificate.number, request.args.get("c"))
    entries = verification.certificate_entries(certificate)
    suspension = (explain.suspension(entries, certificate.suspended_until)
                  if status is CertificateStatus.SUSPENDED else None)
    lowered = explain.level_lowered(entries, certificate.scheme_id, certificate.level)
    level_note = None
    if printed and printed != certificate.level:
        level_note = _level_note(certificate, printed, entries)
    day_answer = day_error = None
    if day_raw:
        try:
            day = verification.parse_day(day_raw)
        except verification.DateProblem as problem:
            day_error = (_("Enter the date as YYYY-MM-DD, for example 2026-03-01.") if problem.reason == "format"
                         else _("Enter a date between 1990 and 2100."))
        else:
            day_answer = verification.answer_for_day(day, today, entries, first_issued_on=certificate.first_issued_on,
                                                     current=verification.current_facts(certificate),
                                                     policy=status_policy())
    html = render_template(
        "verify/verify.html", gettext=_bound_gettext(), c=certificate, company=certificate.company, status=status,
        s=presenters.status_view(status), check=check, level_note=level_note, suspension=suspension, lowered=lowered, day_answer=day_answer,
        day_error=day_error, day_raw=day_raw, checked_at=checked_at,
        report_reason=_report_reason(status, check, level_note))
    return html, day_error


def _bound_gettext():
    """The template's `_` bound to this request's catalog once (Flask-Babel looks the catalog up on every call,
    about half the cost of rendering this page). Same formatting and escaping as Jinja's newstyle gettext."""
    translations = get_translations()
    bound = _BOUND_GETTEXT.get(id(translations))
    if bound is None or bound[0] is not translations:
        bound = _BOUND_GETTEXT[id(translations)] = (translations, _make_new_gettext(translations.ugettext))
    return bound[1]


_BOUND_GETTEXT: dict = {}
_CHECKED_AT = "\u2063CHECKED-AT\u2063"


class _PageCache:
    """A small per-process LRU of rendered verification pages."""

    def __init__(self, size: int = 4096):
        self.size = size
        self.pages: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            html = self.pages.get(key)
            if html is not None:
                self.pages.move_to_end(key)
            return html

    def put(self, key, html: str) -> None:
        with self.lock:
            self.pages[key] = html
            if len(self.pages) > self.size:
                self.pages.popitem(last=False)


def _check_result(number: str, presented: str | None) -> bool | None:
    if presented is None:
        return None
    return qr.is_valid_check(number, presented[:40], _key())


def _level_note(certificate, printed: str, entries) -> dict:
    """What to say when the level printed on the mark is not today's level."""
    scheme = certificate.scheme
    if scheme.level(printed) is None:
        return {"kind": "unknown", "printed": printed}
    since = verification.level_since(entries, certificate.level)
    printed_rank = [lv.id for lv in scheme.levels].index(printed)
    current_rank = [lv.id for lv in scheme.levels].index(certificate.level) if scheme.level(certificate.level) else -1
    return {"kind": "higher" if printed_rank > current_rank else "lower", "printed": printed,
            "printed_name": presenters.level_name(certificate.scheme_id, printed),
            "current_name": presenters.level_name(certificate.scheme_id, certificate.level),
            "since": since}


def _report_reason(status, check, level_note) -> str | None:
    if check is False:
        return reports.ReportReason.MISMATCH.value
    if level_note and level_note["kind"] in ("higher", "unknown"):
        return reports.ReportReason.LEVEL.value
    if status is not CertificateStatus.VALID:
        return reports.ReportReason.NOT_VALID.value
    return None


# ---------------------------------------------------------------- QR codes and the star mark

def _image_response(tag: str, mimetype: str, produce, max_age: int, filename: str):
    """Conditional GET: an unchanged image answers 304 without being generated again."""
    if request.if_none_match.contains(tag):
        response = make_response("", 304)
    else:
        response = make_response(produce())
        response.mimetype = mimetype
        response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.set_etag(tag)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


@bp.route("/certificates/<number>/qr.svg")
def qr_svg(number: str):
    certificate = _certificate_or_404(number)
    url = qr.verify_url(_base_url(), certificate.number, qr.check_code(certificate.number, _key()))
    return _image_response(qr.etag_for("qr.svg", url), "image/svg+xml", lambda: qr.qr_svg(url), QR_MAX_AGE,
                           f"qr-{certificate.number}.svg")


@bp.route("/certificates/<number>/qr.png")
def qr_png(number: str):
    certificate = _certificate_or_404(number)
    url = qr.verify_url(_base_url(), certificate.number, qr.check_code(certificate.number, _key()))
    return _image_response(qr.etag_for("qr.png", url), "image/png", lambda: qr.qr_png(url), QR_MAX_AGE,
                           f"qr-{certificate.number}.png")


def _mark_text(certificate) -> qr.MarkText:
    level = certificate.scheme.level(certificate.level)
    return qr.MarkText(title=_("After-sales service certification"), stars=level.stars if level else 0,
                       level=presenters.level_name(certificate.scheme_id, certificate.level),
                       scheme=presenters.scheme_name(certificate.scheme_id, short=True),
                       number_label=_("Certificate No."), number=certificate.number,
                       footer=_("Scan to check it in the public registry"))


def _mark_or_gone(number: str):
    """(certificate, the URL its mark's QR encodes, None), or (certificate, None, the 410 page saying why
    no mark is served for it). The URL carries the printed level, so an old mark can be recognised."""
    certificate = _certificate_or_404(number)
    status = certificate.effective_status(clock.today())
    if status is not CertificateStatus.VALID:
        page = render_template("verify/mark_gone.html", c=certificate, status=status, s=presenters.status_view(status))
        return certificate, None, make_response(page, 410)
    url = qr.verify_url(_base_url(), certificate.number, qr.check_code(certificate.number, _key()), certificate.level)
    return certificate, url, None


@bp.route("/certificates/<number>/mark.svg")
def mark_svg(number: str):
    certificate, url, gone = _mark_or_gone(number)
    if gone is not None:
        return gone
    text = _mark_text(certificate)
    return _image_response(qr.etag_for("mark.svg", url, repr(text)), "image/svg+xml", lambda: qr.mark_svg(text, url),
                           MARK_MAX_AGE, f"mark-{certificate.number}.svg")


@bp.route("/certificates/<number>/mark.png")
def mark_png(number: str):
    certificate, url, gone = _mark_or_gone(number)
    if gone is not None:
        return gone
    text = _mark_text(certificate)
    if not qr.has_cjk_font(current_app.config.get("MARK_FONT_PATH")) and not text.level.isascii():
        with force_locale("en"):  # no CJK font on this server: print the English words rather than boxes
            text = _mark_text(certificate)
    return _image_response(qr.etag_for("mark.png", url, repr(text)), "image/png",
                           lambda: qr.mark_png(text, url, font_path=current_app.config.get("MARK_FONT_PATH")),
                           MARK_MAX_AGE, f"mark-{certificate.number}.png")


# ---------------------------------------------------------------- reporting a suspected fake mark

class FakeMarkForm(FlaskForm):
    reason = HiddenField()
    number = StringField(_l("Certificate number on the mark (if any)"), validators=[Length(max=60)])
    where_seen = StringField(_l("Where did you see the mark?"), validators=[DataRequired(), Length(max=200)])
    seller = StringField(_l("Seller or shop (optional)"), validators=[Length(max=200)])
    description = TextAreaField(_l("What did you notice? (optional)"), validators=[Length(max=2000)])
    photo = FileField(_l("Photo of the mark (optional, at most 5 MB)"))
    # Honeypot: hidden from people, filled in by bots.
    website = StringField(_l("Leave this field empty"))


@bp.route("/verify/report", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REPORT_RATE_LIMIT"], methods=["POST"])
def report():
    form = FakeMarkForm()
    if request.method == "GET":
        form.reason.data = request.args.get("reason", "")[:20]
        form.number.data = request.args.get("number", "")[:60]
    if form.validate_on_submit():
        if form.website.data:
            session["fake_mark_case"] = None  # a bot: answer as usual, store nothing
            return redirect(url_for(".report_received"))
        photo = form.photo.data.read(reports.MAX_PHOTO_BYTES + 1) if form.photo.data else None
        try:
            case = reports.file_fake_mark_report(reason=form.reason.data or "", certificate_number=form.number.data or "",
                                                 where_seen=form.where_seen.data, seller=form.seller.data or "",
                                                 description=form.description.data or "", photo=photo or None)
        except ValidationError as error:
            db.session.rollback()
            for name, message in error.fields.items():
                getattr(form, name).errors = [*getattr(form, name).errors, message]
            return render_template("verify/report.html", form=form, message=error.message), 422
        db.session.commit()
        session["fake_mark_case"] = case.case_number
        return redirect(url_for(".report_received"))
    status = 422 if request.method == "POST" else 200
    return render_template("verify/report.html", form=form, message=None), status


@bp.route("/verify/report/received")
def report_received():
    return render_template("verify/report_received.html", case_number=session.get("fake_mark_case"))


@bp.route("/verify/reports")
@role_required("moderator", "admin")
def report_list():
    return render_template("verify/reports.html", pagination=reports.list_fake_mark_reports(page_arg()),
                           reasons=_reason_names())


@bp.route("/verify/reports/<case_number>/photo")
@role_required("moderator", "admin")
def report_photo(case_number: str):
    path, mimetype = reports.report_photo(case_number[:20])
    response = send_file(path, mimetype=mimetype, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _reason_names() -> dict[str, str]:
    return {"not_found": _("Number not in the registry"), "mismatch": _("QR check code does not match"),
            "level": _("Printed level differs"), "not_valid": _("Certificate not valid"), "other": _("Other")}
