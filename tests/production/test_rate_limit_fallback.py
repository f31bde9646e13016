"""Rate limits on Redis; with Redis unreachable they are counted in memory (logged once), never a 500, and
/healthz says so. Uses the machine's Redis (db 5, flushed) and a closed local port."""
from __future__ import annotations

import logging
import socket

import pytest

from tests.conftest import close_app, make_app

REDIS_URL = "redis://127.0.0.1:6379/5"


def _redis_or_skip():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    client.flushdb()
    return client


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends: connections are refused


def test_limits_are_shared_through_redis(tmp_path):
    redis = _redis_or_skip()
    first = make_app(tmp_path / "a", RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=REDIS_URL, API_RATE_LIMIT="2 per minute")
    second = make_app(tmp_path / "b", RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=REDIS_URL, API_RATE_LIMIT="2 per minute")
    # Two apps stand for two gunicorn workers (or hosts): the count is one.
    statuses = [first.test_client().get("/api/v1/certificates").status_code,
                second.test_client().get("/api/v1/certificates").status_code,
                first.test_client().get("/api/v1/certificates").status_code]
    health = second.test_client().get("/healthz").get_json()
    close_app(first, tmp_path / "a")
    close_app(second, tmp_path / "b")
    assert statuses == [200, 200, 429]
    assert health["checks"]["rate_limits"] == {"status": "ok", "storage": "redis"}
    assert redis.dbsize() > 0


def test_unreachable_redis_falls_back_to_memory_logged_once_and_healthz_says_so(tmp_path, caplog):
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=url, API_RATE_LIMIT="3 per minute")
    client = app.test_client()
    with caplog.at_level(logging.INFO):
        statuses = [client.get("/api/v1/certificates").status_code for _ in range(4)]
        login = client.post("/login", data={"email": "a@b.example", "password": "x"}).status_code
        health = client.get("/healthz")
    close_app(app, tmp_path)
    assert statuses == [200, 200, 200, 429]  # still limited, in this process's memory
    assert login < 500  # a wrong password is answered as such, never a 500
    warnings = [r for r in caplog.records if "falling back to in-memory" in r.getMessage()]
    assert len(warnings) == 1
    assert health.status_code == 200
    body = health.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["rate_limits"]["status"] == "degraded"


def test_memory_storage_reports_ok(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=True)
    health = app.test_client().get("/healthz").get_json()
    close_app(app, tmp_path)
    assert health["checks"]["rate_limits"] == {"status": "ok", "storage": "memory"}


def test_silent_redis_costs_one_storage_timeout_then_memory_answers_at_once(tmp_path):
    import time

    silent = socket.create_server(("127.0.0.1", 0))  # accepts (the kernel does) and never answers
    url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
    app = make_app(tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=url, RATELIMIT_STORAGE_TIMEOUT=0.5,
                   API_RATE_LIMIT="100 per minute")
    client = app.test_client()
    timings = []
    for _ in range(5):
        started = time.monotonic()
        status = client.get("/api/v1/certificates").status_code
        timings.append((status, time.monotonic() - started))
    close_app(app, tmp_path)
    silent.close()
    assert all(status == 200 for status, _ in timings)
    assert timings[0][1] < 3  # one wait of the storage timeout (a few socket operations at most)
    assert all(seconds < 0.5 for _, seconds in timings[1:])
