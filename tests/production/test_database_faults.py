"""An unreachable PostgreSQL gives a fast 503 (connect and statement timeouts), cached /v/ pages keep answering.

The app reaches the real PostgreSQL of this machine through a small TCP relay on a loopback port; the test
then cuts the relay so it accepts connections and never answers (a database host that went silent), or
points the app at a closed local port. Only loopback addresses are used.
"""
from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import exc, text

from registry.extensions import db
from tests.conftest import close_app, make_app
from tests.factories import make_certificate


class Relay:
    """Forwards loopback connections to a target until cut; after that it accepts and stays silent."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.cut = threading.Event()
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.sockets.append(client)
            if self.cut.is_set():
                continue  # silent: never read, never answer
            upstream = socket.create_connection(self.target)
            self.sockets.append(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def go_silent(self):
        """Drop every open connection; new ones are accepted and never answered."""
        self.cut.set()
        for s in list(self.sockets):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.go_silent()
        self.server.close()


def _via(url: str, port: int) -> str:
    parts = urlsplit(url)
    userinfo = parts.netloc.rsplit("@", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}@127.0.0.1:{port}"))


@pytest.fixture
def relay(pg_url):
    parts = urlsplit(pg_url)
    relay = Relay((parts.hostname, parts.port or 5432))
    yield relay
    relay.close()


def _app_through(relay, pg_url, tmp_path, **overrides):
    settings = {"SQLALCHEMY_DATABASE_URI": _via(pg_url, relay.port), "DATABASE_CONNECT_TIMEOUT": 1}
    settings.update(overrides)
    return make_app(tmp_path, "postgresql", **settings)


def test_silent_database_gives_a_fast_503_in_the_readers_language_and_cached_verify_pages_keep_answering(
        relay, pg_url, tmp_path):
    app = _app_through(relay, pg_url, tmp_path)
    with app.app_context():
        number = make_certificate().number
        db.session.commit()
    client = app.test_client()
    assert client.get(f"/v/{number}", headers={"Accept-Language": "zh-CN"}).status_code == 200  # now cached

    relay.go_silent()
    started = time.monotonic()
    record = client.get(f"/certificates/{number}", headers={"Accept-Language": "zh-CN"})
    record_seconds = time.monotonic() - started
    started = time.monotonic()
    health = client.get("/healthz")
    health_seconds = time.monotonic() - started
    started = time.monotonic()
    scanned = client.get(f"/v/{number}", headers={"Accept-Language": "zh-CN"})
    scan_seconds = time.monotonic() - started
    api = client.get("/api/v1/certificates")
    close_app(app, tmp_path)

    assert record.status_code == 503 and record_seconds < 5
    assert "数据库暂时无法响应" in record.get_data(as_text=True)
    assert record.headers["Retry-After"]
    assert health.status_code == 503 and health_seconds < 5
    assert health.get_json()["checks"]["database"].startswith("error")
    assert scanned.status_code == 200 and scan_seconds < 1 and "有效" in scanned.get_data(as_text=True)
    assert api.status_code == 503 and api.get_json()["error"]["code"] == "database_unavailable"


def test_closed_database_port_gives_503_at_once(pg_url, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = make_app(tmp_path, "sqlite")  # the schema lives elsewhere; this app only ever fails to connect
    close_app(app, tmp_path)
    from registry import create_app
    broken = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                         "SQLALCHEMY_DATABASE_URI": _via(pg_url, port), "DATABASE_CONNECT_TIMEOUT": 1,
                         "SEARCH_INDEX_DIR": str(tmp_path / "idx")})
    started = time.monotonic()
    response = broken.test_client().get("/", headers={"Accept-Language": "en"})
    seconds = time.monotonic() - started
    assert response.status_code == 503 and seconds < 3
    assert "database is not answering" in response.get_data(as_text=True)


def test_statement_timeout_stops_a_long_query(pg_url, tmp_path):
    app = make_app(tmp_path, "postgresql", DATABASE_STATEMENT_TIMEOUT=1)
    with app.app_context():
        shown = db.session.execute(text("SHOW statement_timeout")).scalar()
        db.session.rollback()
        started = time.monotonic()
        with pytest.raises(exc.OperationalError):
            db.session.execute(text("SELECT pg_sleep(5)"))
        seconds = time.monotonic() - started
        db.session.rollback()
    close_app(app, tmp_path)
    assert shown == "1s" and seconds < 3


def test_flask_commands_run_without_the_web_statement_timeout(pg_url, tmp_path):
    import subprocess

    from tests.production.conftest import clean_environment, flask_command

    env = clean_environment(FLASK_APP="registry", INSTANCE_PATH=tmp_path / "instance", DATABASE_URL=pg_url,
                            SEARCH_INDEX_DIR=tmp_path / "idx", DATABASE_STATEMENT_TIMEOUT="7")
    probe = ("from registry.extensions import db; from sqlalchemy import text; "
             "print('timeout=' + db.session.execute(text('SHOW statement_timeout')).scalar())\n")
    result = subprocess.run([*flask_command(), "shell"], input=probe, cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)
    assert "timeout=0" in result.stdout, result.stderr[-2000:]
