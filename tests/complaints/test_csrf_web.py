"""With CSRF on (as in production), the moderator's and the consumer's forms carry working tokens."""
from __future__ import annotations

import re

from registry.extensions import db
from tests.complaints.conftest import filing_form, make_user, sign_in
from tests.conftest import make_app
from tests.factories import make_certificate


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_filing_and_moderation_work_with_csrf_tokens_and_fail_without(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        number = make_certificate().number
        moderator = make_user("moderator").id
        db.session.commit()
    client = app.test_client()
    assert client.post("/complaints/new", data=filing_form(number)).status_code == 400   # no token
    token = _token(client.get(f"/complaints/new?certificate={number}").get_data(as_text=True))
    response = client.post("/complaints/new", data={**filing_form(number), "csrf_token": token})
    assert response.status_code == 302
    tracking = response.headers["Location"].rsplit("/", 1)[1]
    sign_in(client, moderator)
    page = client.get(f"/complaints/case/{tracking}").get_data(as_text=True)
    assert "受理并转交企业" in page
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    response = client.post(f"/complaints/case/{tracking}/accept", data={"csrf_token": _token(page), "version": version},
                           follow_redirects=True)
    assert "已转交企业" in response.get_data(as_text=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
