"""Properties that must hold for every input: what production accepts as secrets and public URL, and what
comes back as a request id."""
from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.settings_check import production_problems
from tests.production.conftest import GOOD_QR_SECRET, GOOD_SECRET

SANE = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")


def _problems(**overrides) -> list[str]:
    config = {"SECRET_KEY": GOOD_SECRET, "QR_SECRET": GOOD_QR_SECRET, "PUBLIC_BASE_URL": "https://registry.example",
              "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u:p@db/registry", "TRUSTED_PROXIES": 0}
    config.update(overrides)
    return production_problems(config)


@given(st.text(max_size=31))
def test_no_secret_shorter_than_32_characters_is_accepted(secret):
    assert any("SECRET_KEY" in p for p in _problems(SECRET_KEY=secret))
    assert any("QR_SECRET" in p for p in _problems(QR_SECRET=secret))


@given(st.text(min_size=32, max_size=80))
def test_the_same_value_for_both_secrets_is_never_accepted(secret):
    assert any("differ" in p for p in _problems(SECRET_KEY=secret, QR_SECRET=secret))


@given(st.from_regex(r"\Ahttp://[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){1,2}(:[0-9]{2,5})?(/[a-z]*)?\Z"))
def test_plain_http_is_refused_for_any_host_name_that_is_not_loopback(url):
    problems = _problems(PUBLIC_BASE_URL=url)
    is_localhost = url.split("//", 1)[1].split("/")[0].split(":")[0] in ("localhost", "localhost.localdomain")
    assert bool(problems) is not is_localhost


@given(st.from_regex(r"\Ahttps://[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){1,2}(:[0-9]{2,5})?(/[a-z]*)?\Z"))
def test_any_https_origin_is_accepted(url):
    assert _problems(PUBLIC_BASE_URL=url) == []


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(incoming=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF, exclude_characters="\x7f"),
                        max_size=200))
def test_the_returned_request_id_is_always_a_sane_token(app, incoming):
    response = app.test_client().get("/healthz", headers={"X-Request-ID": incoming})
    returned = response.headers["X-Request-ID"]
    assert SANE.match(returned)
    assert returned == incoming or len(returned) == 32
