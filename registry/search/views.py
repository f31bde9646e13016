"""The search page (/search)."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from registry import presenters
from registry.schemes import all_schemes
from registry.search.highlight import highlight, needles_for
from registry.search.schema import FACET_FIELDS
from registry.search.services import SearchRequest, exact_certificate_number, search

bp = Blueprint("search", __name__)


def facet_label(name: str, value: str) -> str:
    """The words a facet value is shown with, in the current language."""
    if name == "status":
        try:
            return presenters.status_view(value).word
        except ValueError:
            return value
    if name == "scheme":
        return presenters.scheme_name(value, short=True)
    if name == "level":
        for scheme in all_schemes().values():
            if scheme.level(value):
                return presenters.level_name(scheme.id, value)
    return value


@bp.route("/search")
def index():
    req = SearchRequest.from_args(request.args, current_app.config["SEARCH_PER_PAGE"])
    if req.q and not req.filters.active() and req.page == 1:
        number = exact_certificate_number(req.q)
        if number:
            return redirect(url_for("certificates.detail", number=number))
    outcome = search(req)
    return render_template("search/index.html", outcome=outcome, req=req, needles=needles_for(req.words),
                           highlight=highlight, facet_label=facet_label, facet_names=FACET_FIELDS)
