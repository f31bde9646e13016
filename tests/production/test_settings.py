"""Production (REGISTRY_ENV=production) refuses unsafe settings at start-up, naming each problem; every setting,
limits included, comes from the environment; TRUSTED_PROXIES turns on ProxyFix; the signing key is never created
on first use in production."""
from __future__ import annotations

import os
import subprocess

import pytest

from registry import create_app
from registry.config import SettingError, from_environment
from registry.settings_check import UnsafeSettings
from tests.conftest import close_app, make_app
from tests.production.conftest import GOOD_SECRET, clean_environment, flask_command, production_config


def test_a_complete_production_configuration_starts(tmp_path):
    app = create_app(production_config(tmp_path))
    assert app.config["REGISTRY_ENV"] == "production"


@pytest.mark.parametrize("overrides, problem", [
    ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
    ({"SECRET_KEY": "dev-only-not-secret"}, "SECRET_KEY must be set"),
    ({"SECRET_KEY": "short-secret"}, "SECRET_KEY is 12 characters"),
    ({"QR_SECRET": None}, "QR_SECRET must be set"),
    ({"QR_SECRET": "q" * 10}, "QR_SECRET is 10 characters"),
    ({"QR_SECRET": GOOD_SECRET}, "QR_SECRET must differ from SECRET_KEY"),
    ({"PUBLIC_BASE_URL": "http://127.0.0.1:5000"}, "PUBLIC_BASE_URL must be set"),
    ({"PUBLIC_BASE_URL": ""}, "PUBLIC_BASE_URL must be set"),
    ({"PUBLIC_BASE_URL": "http://registry.example"}, "PUBLIC_BASE_URL must use https"),
    ({"PUBLIC_BASE_URL": "registry.example"}, "PUBLIC_BASE_URL must be an absolute http(s) URL"),
    ({"SQLALCHEMY_DATABASE_URI": None}, "DATABASE_URL must be set"),
    ({"SQLALCHEMY_DATABASE_URI": "sqlite:////nonexistent/registry.db"}, "SQLite file that does not exist"),
])
def test_production_refuses_unsafe_settings_naming_the_problem(tmp_path, overrides, problem):
    with pytest.raises(UnsafeSettings) as raised:
        create_app(production_config(tmp_path, **overrides))
    assert problem in str(raised.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"])
def test_plain_http_is_allowed_on_a_loopback_address(tmp_path, url):
    assert create_app(production_config(tmp_path, PUBLIC_BASE_URL=url)).config["PUBLIC_BASE_URL"] == url


def test_all_problems_are_listed_at_once(tmp_path):
    with pytest.raises(UnsafeSettings) as raised:
        create_app(production_config(tmp_path, SECRET_KEY="", QR_SECRET="", PUBLIC_BASE_URL="",
                                     SQLALCHEMY_DATABASE_URI=None))
    assert len(raised.value.problems) == 4


def test_outside_production_the_development_defaults_still_start(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "SEARCH_INDEX_DIR": str(tmp_path / "idx")})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'instance' / 'registry.db'}"
    assert app.config["SIGNING_KEY_PATH"] == str(tmp_path / "instance" / "signing-key.pem")


def test_flask_command_in_production_prints_a_clear_error_and_exits(tmp_path):
    env = clean_environment(FLASK_APP="registry", REGISTRY_ENV="production", INSTANCE_PATH=tmp_path / "instance",
                            SECRET_KEY="x")
    result = subprocess.run([*flask_command(), "registry", "init"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "refusing to start in production" in result.stderr and "SECRET_KEY is 1 characters" in result.stderr
    assert not list(tmp_path.rglob("*.db"))  # no SQLite file was created anywhere


# ------------------------------------------------------------------ every setting from the environment

def test_limits_and_timeouts_come_from_the_environment():
    found = from_environment({"API_RATE_LIMIT": "7 per minute", "BULK_RATE_LIMIT": "3 per minute",
                              "LOGIN_RATE_LIMIT": "2/minute", "REPORT_RATE_LIMIT": "1 per day",
                              "COMPLAINT_MAX_ATTACHMENTS": "2", "DATABASE_CONNECT_TIMEOUT": "3",
                              "DATABASE_STATEMENT_TIMEOUT": "15", "TRUSTED_PROXIES": "2",
                              "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": "off", "RATELIMIT_STORAGE_TIMEOUT": "0.5"})
    assert found == {"API_RATE_LIMIT": "7 per minute", "BULK_RATE_LIMIT": "3 per minute",
                     "LOGIN_RATE_LIMIT": "2/minute", "REPORT_RATE_LIMIT": "1 per day",
                     "COMPLAINT_MAX_ATTACHMENTS": 2, "DATABASE_CONNECT_TIMEOUT": 3,
                     "DATABASE_STATEMENT_TIMEOUT": 15, "TRUSTED_PROXIES": 2,
                     "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": False, "RATELIMIT_STORAGE_TIMEOUT": 0.5}


@pytest.mark.parametrize("name, raw, message", [
    ("VERIFY_CACHE_SECONDS", "soon", "VERIFY_CACHE_SECONDS must be a whole number"),
    ("DEMO_MODE", "maybe", "DEMO_MODE must be 1/0"),
])
def test_a_setting_that_cannot_be_parsed_is_named(name, raw, message):
    with pytest.raises(SettingError, match=message):
        from_environment({name: raw})


def test_api_rate_limit_from_the_environment_answers_429(tmp_path, monkeypatch):
    monkeypatch.setenv("API_RATE_LIMIT", "2 per minute")
    app = make_app(tmp_path, RATELIMIT_ENABLED=True)
    client = app.test_client()
    statuses = [client.get("/api/v1/certificates").status_code for _ in range(3)]
    close_app(app, tmp_path)
    assert statuses == [200, 200, 429]


def test_trusted_proxies_take_the_client_address_from_x_forwarded_for(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, API_RATE_LIMIT="1 per minute", TRUSTED_PROXIES=1)
    client = app.test_client()
    first = client.get("/api/v1/certificates", headers={"X-Forwarded-For": "203.0.113.1"}).status_code
    other_client = client.get("/api/v1/certificates", headers={"X-Forwarded-For": "203.0.113.2"}).status_code
    first_again = client.get("/api/v1/certificates", headers={"X-Forwarded-For": "203.0.113.1"}).status_code
    close_app(app, tmp_path)
    assert (first, other_client, first_again) == (200, 200, 429)


def test_without_trusted_proxies_x_forwarded_for_is_ignored(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, API_RATE_LIMIT="1 per minute")
    client = app.test_client()
    first = client.get("/api/v1/certificates", headers={"X-Forwarded-For": "203.0.113.1"}).status_code
    forged = client.get("/api/v1/certificates", headers={"X-Forwarded-For": "203.0.113.2"}).status_code
    close_app(app, tmp_path)
    assert (first, forged) == (200, 429)


# ------------------------------------------------------------------ the signing key

def test_production_never_creates_the_signing_key_on_first_use(tmp_path):
    app = make_app(tmp_path, **production_config(tmp_path, TESTING=True))
    response = app.test_client().get("/.well-known/registry-signing-key", headers={"Accept-Language": "zh-CN"})
    close_app(app, tmp_path)
    assert response.status_code == 503
    assert "签名密钥尚未安装" in response.get_data(as_text=True)
    assert not os.path.exists(tmp_path / "signing-key.pem")


def test_production_signs_with_the_provisioned_key(tmp_path):
    env = clean_environment(FLASK_APP="registry", INSTANCE_PATH=tmp_path / "instance",
                            SIGNING_KEY_PATH=tmp_path / "signing-key.pem")
    generated = subprocess.run([*flask_command(), "keys", "generate"], cwd=tmp_path, env=env, capture_output=True,
                               text=True, timeout=60)
    assert generated.returncode == 0, generated.stderr
    fingerprint = generated.stdout.split("fingerprint:")[1].strip()
    app = make_app(tmp_path, **production_config(tmp_path, TESTING=True))
    response = app.test_client().get("/.well-known/registry-signing-key")
    close_app(app, tmp_path)
    assert response.status_code == 200 and fingerprint in response.get_data(as_text=True)


def test_trusted_proxies_take_https_from_x_forwarded_proto_but_never_a_prefix_or_host(tmp_path):
    app = make_app(tmp_path, TRUSTED_PROXIES=1)

    @app.route("/probe-request")
    def probe():  # what the app sees of the request, after ProxyFix
        from flask import request
        return f"{request.scheme} {request.host} [{request.script_root}] {request.remote_addr}"

    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Prefix": "/evil", "X-Forwarded-Host": "evil.example",
               "X-Forwarded-For": "203.0.113.9"}
    client = app.test_client()
    seen = client.get("/probe-request", headers=headers).get_data(as_text=True)
    home = client.get("/", headers=headers).get_data(as_text=True)
    close_app(app, tmp_path)
    assert seen == "https localhost [] 203.0.113.9"
    assert 'href="/evil' not in home and "evil.example" not in home
