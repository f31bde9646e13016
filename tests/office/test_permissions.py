"""The permission matrix: every back-office URL for every role (services: test_permission_services.py).

One app and one set of data per backend for the whole module: no request in the matrix changes anything
(refused, or an empty form answered with 422), so sharing them keeps ~200 cases fast."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from registry.accounts.models import Role
from registry.certificates.models import Audit
from registry.extensions import db
from tests.conftest import BACKENDS, make_app
from tests.factories import make_certificate, make_company
from tests.office.conftest import make_user, sign_in

READ_PAGES = ["/office", "/office/companies", "/office/certificates", "/office/certificates/{number}",
              "/office/companies/{company}", "/office/audits/{audit}", "/office/companies?q=x"]
WRITE_PAGES = ["/office/companies/new", "/office/companies/{company}/edit", "/office/companies/{company}/audits/new",
               "/office/certificates/{number}/audits/new?kind=surveillance"]
WRITE_POSTS = ["/office/companies/new", "/office/companies/{company}/edit", "/office/audits/{audit}/issue",
               "/office/companies/{company}/audits/new", "/office/certificates/{number}/audits/new?kind=special",
               "/office/certificates/{number}/suspend", "/office/certificates/{number}/restore",
               "/office/certificates/{number}/revoke", "/office/certificates/{number}/withdraw",
               "/office/certificates/{number}/edit"]
ROLES = ["anonymous", "company", "moderator", "officer", "admin"]


@pytest.fixture(scope="module", params=BACKENDS)
def matrix(request, tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("matrix"), request.param)
    with app.app_context():
        company = make_company()
        certificate = make_certificate(company)
        audit = Audit(company=company, scheme_id="gbt27922-2011", kind="initial", audited_on=dt.date(2026, 5, 1),
                      score=Decimal("85"), level="3", passed=True, formula_version="v1", special_deductions=0, bonus=0)
        db.session.add(audit)
        users = {role.value: make_user(role.value, company=company if role is Role.COMPANY else None).id for role in Role}
        db.session.commit()
        world = {"number": certificate.number, "company": company.id, "audit": audit.id, "users": users}
    yield app, world
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _client_as(app, world, role):
    client = app.test_client()
    if role != "anonymous":
        sign_in(client, world["users"][role])
    return client


def _expected_read(role):
    return {"anonymous": 302, "company": 403}.get(role, 200)


def _expected_write_page(role):
    return {"anonymous": 302, "company": 403, "moderator": 403}.get(role, 200)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("template", READ_PAGES)
def test_reading_the_back_office(matrix, role, template):
    app, world = matrix
    response = _client_as(app, world, role).get(template.format(**world))
    assert response.status_code == _expected_read(role)
    if role == "anonymous":
        assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("template", WRITE_PAGES)
def test_opening_a_form_that_changes_things(matrix, role, template):
    app, world = matrix
    response = _client_as(app, world, role).get(template.format(**world))
    assert response.status_code == _expected_write_page(role)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("template", WRITE_POSTS)
def test_posting_a_change(matrix, role, template):
    app, world = matrix
    response = _client_as(app, world, role).post(template.format(**world), data={})
    if role == "anonymous":
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    elif role in ("company", "moderator"):
        assert response.status_code == 403
    else:
        # Allowed in, but an empty form changes nothing: a clear 422 page, never a 500.
        assert response.status_code == 422


def test_company_account_gets_403_even_on_an_unknown_office_url(matrix):
    app, world = matrix
    client = _client_as(app, world, "company")
    assert client.get("/office/certificates/NOPE").status_code == 403
