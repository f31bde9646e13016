"""The hostile sweep: every route the app registers, hostile values in every path parameter, query
parameter and form field, anonymous and as each role, with a valid CSRF token and session (so the values
reach the validators). Fails on any 5xx, any traceback in a page and any error logged with a traceback.

Bounded: each (route, role) pair gets a rotating sample of the hostile table (SWEEP_SAMPLE values, 4 by
default), so every value meets every route across the roles, in well under three minutes per backend.
SWEEP_FULL=1 sends the whole table everywhere (slow; for a local run before a release).
"""
from __future__ import annotations

import datetime as dt
import io
import logging
import os
import random
import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from flask_wtf import FlaskForm
from wtforms.fields.core import UnboundField

from registry.accounts.models import Role
from registry.extensions import db
from tests.conftest import close_app, make_app
from tests.office.conftest import PASSWORD, make_user

HOSTILE = [
    "", " ", "0", "-1", "2147483648", "9223372036854775808", "9" * 400, "1e400", "NaN", "-0", "0x1F",
    "'", "\"'--", "' OR '1'='1", "<script>alert(1)</script>", "{{7*7}}", "../../../etc/passwd", "\x00",
    "a\x1bb", "\n\r", "/%0A", "\u202egnp.exe", "𠀀𠀁", "％", "a" * 3000, "2026-02-30", "9999-12-31",
    "0000-00-00", "true", "[]", "{}", "null", "%s%s%n", "\\", "//evil.example", "javascript:alert(1)",
]
# JSON bodies sent to every POST route (forms must refuse them; the API must answer 4xx).
HOSTILE_JSON = ["[1]", '"x"', "null", '{"identifiers": {"a": [1]}}', "[" * 1000 + "]" * 1000, '{"on": null}',
                '{"identifiers": ["' + "a" * 300 + '"]}', "{", '"\\ud800"',
                '{"identifiers": ["\\ud800"], "receipt": true}', '{"identifiers": ["a\\u0000b"], "receipt": true}']
ROLES = ["anonymous", *[role.value for role in Role]]
SAMPLE = len(HOSTILE) if os.environ.get("SWEEP_FULL") else int(os.environ.get("SWEEP_SAMPLE", "4"))
# Routes that end the session run last for each role (the client signs in again after them).
ENDS_SESSION = {"accounts.logout", "accounts.end_all_sessions"}
SOURCE_NAMES = re.compile(r"""(?:args|form)\.get(?:list)?\(\s*["'](\w+)["']|(?:_text_arg|page_arg)\(\s*["'](\w+)["']""")
# Every request whose sampled value is one of these sends a hostile JSON body instead of a form.
JSON_TURN = {"[]", "{}", "null", "true"}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def _names_read_from_requests() -> set[str]:
    """Every query/form name the code reads directly (request.args.get("q"), _text_arg("status"), …)."""
    root = os.path.join(os.path.dirname(__file__), "..", "..", "registry")
    found = {"page", "next", "token", "format", "lang"}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(folder, name), encoding="utf-8") as handle:
                    for match in SOURCE_NAMES.finditer(handle.read()):
                        found.add(match.group(1) or match.group(2))
    return found


def _form_field_names() -> set[str]:
    """Every field of every form class, plain and with the prefixes the certificate actions use."""
    import registry.office.views as office_views
    names: set[str] = set()
    stack = list(FlaskForm.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        names.update(n for n in dir(cls) if isinstance(getattr(cls, n, None), UnboundField))
    prefixed = {f"{action}-{n}" for action in office_views.ACTIONS for n in names}
    return names | prefixed


@pytest.fixture
def sweep_app(tmp_path, backend):
    app = make_app(tmp_path, backend, WTF_CSRF_ENABLED=True)
    with app.app_context():
        world = _build_world()
    yield app, world
    close_app(app, tmp_path)


def _build_world() -> dict:
    """Real rows for every kind of path parameter, so hostile values in one place meet real ones elsewhere."""
    from registry.certificates.models import Audit
    from registry.certificates.reports import file_fake_mark_report
    from registry.complaints import services as complaint_services
    from registry.procurement.services import create_watchlist
    from tests.factories import make_certificate, make_company
    company = make_company(name="扫描测试公司")
    certificate = make_certificate(company)
    audit = Audit(company=company, scheme_id="gbt27922-2011", kind="initial", audited_on=dt.date(2026, 5, 1),
                  score=Decimal("85"), level="3", passed=True, formula_version="v1", special_deductions=0, bonus=0)
    db.session.add(audit)
    accounts = {role.value: make_user(role.value, email=f"{role.value}@sweep.test",
                                      company=company if role is Role.COMPANY else None).email for role in Role}
    complaint, token = complaint_services.file_complaint(complaint_services.FilingData(
        certificate_number=certificate.number, category="repair", description="空调维修三次仍不制冷，客服不再回复。",
        purchase_date=dt.date(2026, 5, 1), order_number="JD1", desired_resolution="refund", amount=None,
        name="李雷", mobile="+8613912345678", email="", consent=True))
    report = file_fake_mark_report(reason="other", certificate_number=certificate.number, where_seen="网店")
    watchlist = create_watchlist(company.uscc)
    db.session.commit()
    return {"accounts": accounts, "token": token, "values": {
        "number": certificate.number, "company_id": str(company.id), "audit_id": str(audit.id),
        "tracking": complaint.tracking_number, "case_number": report.case_number, "attachment_id": "1",
        "proposal_id": "1", "message_id": "1", "uscc": company.uscc, "province": company.province, "token": watchlist.token,
        "code": "en", "fmt": "csv", "filename": "css/site.css"}}


def _action_values() -> dict[str, list[str]]:
    import registry.complaints.views as complaint_views
    import registry.office.views as office_views
    return {"office.certificate_action": sorted(office_views.ACTIONS),
            "complaints.case_action": sorted(complaint_views.STAFF_ACTIONS),
            "complaints.consumer_action": sorted(complaint_views.CONSUMER_ACTIONS),
            "complaints.sanction_action": sorted(complaint_views.SANCTION_ACTIONS),
            "procurement.bulk_export": ["csv", "xlsx"]}


def _path(rule, values: dict[str, str]) -> str:
    def replace(match):
        return quote(values[match.group(2)], safe="/" if match.group(1) == "path" else "")
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", replace, rule.rule)


def _requests_for(rule, world: dict, rng: random.Random, action_values: dict) -> list[tuple[str, str, str]]:
    """(method, path, hostile value for the query and form) for one route: real path values with each
    sampled hostile value, then each path parameter in turn set to a sampled hostile value."""
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
    real = dict(world["values"])
    variants = [real]
    for argument in rule.arguments:
        if argument in ("action", "fmt") and rule.endpoint in action_values:
            variants = [{**v, argument: a} for v in variants for a in action_values[rule.endpoint]]
    found = []
    for method in methods:
        for values in variants:
            for hostile in rng.sample(HOSTILE, min(SAMPLE, len(HOSTILE))):
                found.append((method, _path(rule, values), hostile))
        for argument in sorted(rule.arguments):
            for hostile in rng.sample(HOSTILE, min(max(1, SAMPLE // 2), len(HOSTILE))):
                found.append((method, _path(rule, {**variants[0], argument: hostile}), "x"))
    return found


def _csrf(client) -> str:
    for page in ("/account", "/login", "/complaints/new"):
        match = CSRF.search(client.get(page).get_data(as_text=True))
        if match:
            return match.group(1) or match.group(2)
    raise AssertionError("no CSRF token found on any form page")


def _signed_in(app, role: str, world: dict):
    client = app.test_client()
    if role != "anonymous":
        token = _csrf(client)
        response = client.post("/login", data={"email": world["accounts"][role], "password": PASSWORD,
                                                 "csrf_token": token})
        assert response.status_code == 302, f"{role} could not sign in"
    return client, _csrf(client)


@pytest.mark.parametrize("role", ROLES)
def test_no_route_answers_a_hostile_value_with_a_5xx_or_a_traceback(sweep_app, role, caplog):
    app, world = sweep_app
    caplog.set_level(logging.WARNING)
    query_names = sorted(_names_read_from_requests())
    form_names = sorted(_form_field_names() | set(query_names))
    action_values = _action_values()
    rng = random.Random(f"{role}-sweep")
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint in ENDS_SESSION, r.rule))
    client, token = _signed_in(app, role, world)
    failures: list[str] = []
    sent = 0
    statuses: dict[int, int] = {}
    for rule in rules:
        for method, path, hostile in _requests_for(rule, world, rng, action_values):
            if method == "GET":
                response = client.get(path, query_string={name: hostile for name in query_names})
            elif hostile in JSON_TURN:
                response = client.post(path, data=rng.choice(HOSTILE_JSON), content_type="application/json",
                                       headers={"X-CSRFToken": token})
            else:
                data = {name: hostile for name in form_names}
                data["csrf_token"] = token
                data["attachments"] = (io.BytesIO(b"GIF89a" + hostile.encode("utf-8", "replace")), hostile or "f")
                data["photo"] = (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"x" * 20), hostile or "p")
                response = client.post(path, data=data, content_type="multipart/form-data")
            sent += 1
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            body = response.get_data()
            if response.status_code >= 500 or b"Traceback (most recent call last)" in body:
                failures.append(f"{response.status_code} {method} {path[:120]!r} value={hostile[:40]!r}")
            if rule.endpoint in ENDS_SESSION and role != "anonymous":
                client, token = _signed_in(app, role, world)
    logged = [f"{r.name}: {r.getMessage()[:160]}" for r in caplog.records
              if r.levelno >= logging.ERROR or r.exc_info]
    # The sweep must reach the validators, not stop at the door: some answers are 422 (or 200) for every role.
    assert statuses.get(422, 0) + statuses.get(200, 0) > sent // 10, statuses
    assert not failures and not logged, (f"{len(failures)} of {sent} requests failed ({statuses}):\n" + "\n".join(failures[:40])
                                         + "\nlogged errors:\n" + "\n".join(sorted(set(logged))[:40]))
