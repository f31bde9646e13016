"""Logs: one JSON object a line with time, level, request id, method, path, status and duration; the request id
comes from X-Request-ID (when sane) or is made, and is returned."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.production.conftest import ROOT, clean_environment

SCRIPT = """
from registry import create_app
app = create_app({"TESTING": True, "INSTANCE_PATH": %(instance)r, "SQLALCHEMY_DATABASE_URI": %(db)r,
                  "SEARCH_INDEX_DIR": %(index)r})
client = app.test_client()
client.get("/healthz", headers={"X-Request-ID": "abc-123"})
client.get("/no-such-page")
import logging
with app.test_request_context("/", headers={"X-Request-ID": "inside-1"}):
    app.preprocess_request()
    logging.getLogger("registry.example").warning("something to see")
"""


def _run(tmp_path, log_format: str) -> list[str]:
    script = SCRIPT % {"instance": str(tmp_path / "instance"), "db": f"sqlite:///{tmp_path / 'x.db'}",
                       "index": str(tmp_path / "idx")}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env=clean_environment(LOG_FORMAT=log_format))
    assert result.returncode == 0, result.stderr
    return [line for line in result.stderr.splitlines() if line.strip()]


def test_each_request_is_one_json_line_with_its_request_id(tmp_path):
    records = [json.loads(line) for line in _run(tmp_path, "json")]  # every line is JSON
    requests = [r for r in records if r["logger"] == "registry.request"]
    health, missing = requests[0], requests[1]
    assert health["request_id"] == "abc-123" and health["method"] == "GET" and health["path"] == "/healthz"
    assert health["status"] in (200, 503) and isinstance(health["duration_ms"], float)
    assert health["level"] == "INFO" and health["time"].endswith("Z") and health["pid"] > 0
    assert missing["status"] == 404 and len(missing["request_id"]) == 32  # made up: no header was sent
    warning = next(r for r in records if r["logger"] == "registry.example")
    assert warning["level"] == "WARNING" and warning["request_id"] == "inside-1"
    assert warning["message"] == "something to see"


def test_text_format_writes_the_same_fields_as_key_value(tmp_path):
    lines = [line for line in _run(tmp_path, "text") if "logger=registry.request" in line]
    assert "request_id=abc-123" in lines[0] and "path=/healthz" in lines[0] and "duration_ms=" in lines[0]
    assert lines[0].startswith("time=")


def test_request_id_is_returned_and_insane_ones_are_replaced(client):
    given = client.get("/healthz", headers={"X-Request-ID": "edge-42.a"})
    made = client.get("/healthz")
    insane = client.get("/healthz", headers={"X-Request-ID": "bad id <script>" + "x" * 200})
    assert given.headers["X-Request-ID"] == "edge-42.a"
    assert len(made.headers["X-Request-ID"]) == 32
    assert insane.headers["X-Request-ID"] != "bad id" and len(insane.headers["X-Request-ID"]) == 32
