"""A damaged index segment never takes the server down: a real server process, a segment truncated under it."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import PINNED_TODAY, make_app
from tests.search.conftest import build_register

ROOT = Path(__file__).resolve().parents[2]

SERVER = textwrap.dedent("""
    import json, sys
    from werkzeug.serving import make_server
    from registry import create_app
    app = create_app(json.loads(sys.argv[1]))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()
""")


def _get(base: str, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(base + urllib.parse.quote(path, safe="/?=&"), timeout=20) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


@pytest.fixture
def served(tmp_path):
    """A register with a built index, served by a separate process (so a crash is seen as a crash)."""
    config = {"TESTING": False, "INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "test-secret",
              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'served.db'}",
              "SEARCH_INDEX_DIR": str(tmp_path / "search_index"), "REGISTRY_TODAY": PINNED_TODAY,
              "RATELIMIT_ENABLED": False, "UPLOAD_DIR": str(tmp_path / "uploads"),
              "SIGNING_KEY_PATH": str(tmp_path / "key.pem")}
    app = make_app(tmp_path, **config)
    with app.app_context():
        build_register()  # committed through the outbox: the inline indexer builds the index
    close_app_keep_index(app)
    process = subprocess.Popen([sys.executable, "-c", SERVER, json.dumps(config)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        port = int(process.stdout.readline().strip())
        yield process, f"http://127.0.0.1:{port}", tmp_path / "search_index"
    finally:
        process.terminate()
        process.wait(timeout=10)


def close_app_keep_index(app) -> None:
    from registry.extensions import db
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _segments(index_root: Path) -> list[Path]:
    live = (index_root / "CURRENT").read_text(encoding="utf-8").strip()
    return sorted((index_root / live).glob("*.seg"))


def test_a_segment_truncated_under_a_running_server_degrades_search_and_healthz_says_so(served):
    process, base, index_root = served
    status, page = _get(base, "/search?q=海澜")
    assert status == 200 and "99925SV90001R0" in page and "search-degraded" not in page
    assert json.loads(_get(base, "/healthz")[1])["checks"]["search"]["index"] == "ok"

    for segment in _segments(index_root):
        with open(segment, "r+b") as handle:
            handle.truncate(max(1, segment.stat().st_size // 3))

    status, page = _get(base, "/search?q=空调")
    assert process.poll() is None, "the server died"
    assert status == 200 and "search-degraded" in page and "99925SV90004R0" in page  # the database fallback
    status, body = _get(base, "/healthz")
    health = json.loads(body)
    assert health["status"] == "degraded" and health["checks"]["search"]["index"].startswith("broken")
    assert _get(base, "/")[0] == 200 and process.poll() is None


@pytest.mark.parametrize("seed", [2, 3])
def test_a_segment_overwritten_with_garbage_of_the_same_size_never_passes_as_ok(served, seed):
    """Same-size damage may or may not be noticed by the reader (Whoosh keeps no checksums); what must hold:
    the server lives, every search answers, and a search that had to fall back is reported by /healthz."""
    process, base, index_root = served
    assert _get(base, "/search?q=海澜")[0] == 200
    for segment in _segments(index_root):
        size = segment.stat().st_size
        with open(segment, "r+b") as handle:
            handle.seek(size - size // 4)
            handle.write(random.Random(seed).randbytes(size // 4))
    answers = [_get(base, f"/search?q={word}") for word in ("空调", "维修", "青岛", "电视机", "杭州")]
    assert {status for status, _page in answers} == {200} and process.poll() is None
    health = json.loads(_get(base, "/healthz")[1])
    if any("search-degraded" in page for _status, page in answers):
        assert health["status"] == "degraded" and health["checks"]["search"]["index"].startswith("broken")
