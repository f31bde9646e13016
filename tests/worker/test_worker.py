"""`flask registry worker`: daily tick schedule, heartbeat and /healthz, database faults, and a real worker
process (bounded in time) that survives an unreachable database, catches up, and stops on SIGTERM."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from registry import clock, create_app
from registry.extensions import db
from registry.ledger.models import LedgerEntry
from registry.search import state
from registry.search.indexer import pending_count
from registry.search.outbox import SearchOutbox, queue_certificate
from registry.worker import Worker
from registry.worker.models import TickRun, WorkerHeartbeat
from tests.complaints.conftest import filing_form
from tests.conftest import close_app, make_app
from tests.factories import make_certificate, make_company
from tests.search.test_search_page import result_names, search_page
from tests.worker.conftest import free_port, gateway_settings

ROOT = Path(__file__).resolve().parents[2]
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
LEVELS = {"INFO", "WARNING", "ERROR"}


def _second_app(first, path: Path, **overrides):
    """Another process's app on the same database (make_app would empty it)."""
    return create_app({**first.config, "INSTANCE_PATH": str(path / "instance"),
                       "SEARCH_INDEX_DIR": str(path / "search_index"), "SQLALCHEMY_ENGINE_OPTIONS": {},
                       **overrides})


def test_the_tick_runs_at_start_and_two_workers_never_both_run_it(tmp_path, backend):
    app = make_app(tmp_path, backend, SEARCH_INDEXER="external")
    other = _second_app(app, tmp_path / "other", SEARCH_INDEXER="external")
    try:
        with app.app_context():
            make_certificate(make_company(name="过期测试电器有限公司"), issued_on=dt.date(2022, 1, 10),
                             last_surveillance_on=dt.date(2024, 1, 5))
            db.session.commit()  # its validity ran out before 2026-06-01
        assert Worker(app).run_once() and Worker(other).run_once()
        with app.app_context():
            runs = db.session.scalars(select(TickRun)).all()
            assert [r.day for r in runs] == [dt.date(2026, 6, 1)]
            assert runs[0].summary.startswith("1 expired")
            assert db.session.scalar(select(func.count()).select_from(LedgerEntry)
                                     .where(LedgerEntry.kind == "expired")) == 1
        # The tick's change reached the index in the same pass.
        assert "过期测试电器有限公司" in result_names(search_page(app.test_client(), status="expired"))
    finally:
        close_app(other, tmp_path / "other")
        close_app(app, tmp_path)


def test_after_start_the_next_tick_waits_for_the_configured_local_time(tmp_path, backend):
    now = clock.now()
    if now.hour == 23:
        pytest.skip("needs an hour of the day left")
    later = (now + dt.timedelta(minutes=30)).strftime("%H:%M")
    app = make_app(tmp_path, backend, WORKER_TICK_AT=later)
    try:
        worker = Worker(app)
        assert worker.run_once()  # at start: today's tick
        app.config["REGISTRY_TODAY"] = "2026-06-02"
        assert worker.run_once()
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(TickRun)) == 1  # not yet: before WORKER_TICK_AT
        app.config["WORKER_TICK_AT"] = "00:00"
        assert worker.run_once()
        with app.app_context():
            assert set(db.session.scalars(select(TickRun.day))) == {dt.date(2026, 6, 1), dt.date(2026, 6, 2)}
    finally:
        close_app(app, tmp_path)


def test_healthz_reports_a_missing_or_late_worker_and_an_old_outbox_backlog(tmp_path, backend):
    app = make_app(tmp_path, backend, SEARCH_INDEXER="external", MESSAGE_DELIVERY="worker",
                   WORKER_HEARTBEAT_MAX_AGE=60, SEARCH_OUTBOX_MAX_AGE=120)
    client = app.test_client()
    try:
        with app.app_context():
            certificate_id = make_certificate().id
            db.session.commit()
        health = client.get("/healthz").get_json()
        assert health["status"] == "degraded" and health["checks"]["worker"]["status"] == "degraded"
        assert health["checks"]["worker"]["last_heartbeat_seconds"] is None

        assert Worker(app).run_once()
        health = client.get("/healthz").get_json()
        assert health["status"] == "ok", health
        assert health["checks"]["worker"]["last_heartbeat_seconds"] < 5
        assert health["checks"]["search"]["pending"] == 0

        with app.app_context():
            db.session.execute(update(WorkerHeartbeat).values(beat_at=clock.utcnow() - dt.timedelta(seconds=90)))
            queue_certificate(certificate_id)
            db.session.commit()
            db.session.execute(update(SearchOutbox).where(SearchOutbox.id == db.session.scalar(
                select(func.max(SearchOutbox.id)))).values(created_at=clock.utcnow() - dt.timedelta(seconds=300)))
            db.session.commit()
        response = client.get("/healthz")
        health = response.get_json()
        assert response.status_code == 200 and health["status"] == "degraded"
        assert health["checks"]["worker"]["status"] == "degraded"
        assert 85 < health["checks"]["worker"]["last_heartbeat_seconds"] < 120
        search = health["checks"]["search"]
        assert search["status"] == "degraded" and search["pending"] == 1 and search["oldest_pending_seconds"] >= 299
    finally:
        close_app(app, tmp_path)


def test_a_database_error_is_logged_and_retried_with_growing_backoff(tmp_path, caplog):
    unreachable = f"sqlite:///{tmp_path / 'no-such-dir' / 'registry.db'}"
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "SQLALCHEMY_DATABASE_URI": unreachable,
                      "SEARCH_INDEX_DIR": str(tmp_path / "index"), "WORKER_BACKOFF_MAX": 4})
    worker = Worker(app)
    assert not worker.run_once() and not worker.run_once() and not worker.run_once()
    assert worker.failures == 3 and worker.backoff() == 2.0
    worker.failures = 10
    assert worker.backoff() == 4.0  # capped
    assert "database error (OperationalError: unable to open database file)" in caplog.text


# -- a real worker process -----------------------------------------------------------------------------------

class TcpProxy:
    """A TCP forwarder to PostgreSQL that can be taken down (listener closed, every connection cut) and back up."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self.listener = None
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()

    def up(self):
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self.listener.settimeout(0.2)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def down(self):
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.close()
        with self.lock:
            for conn in self.connections:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()
            self.connections.clear()

    def _accept(self, listener):
        while self.listener is listener:
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            server = socket.create_connection(self.target)
            with self.lock:
                self.connections += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

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


class WorkerProcess:
    """`flask registry worker` in a subprocess, its output read line by line as it comes."""

    def __init__(self, env: dict, instance: Path):
        app_ref = f"registry:create_app({{'INSTANCE_PATH': {str(instance)!r}}})"
        self.proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", app_ref, "registry", "worker"],
                                     cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, predicate, timeout=40.0, what="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            assert self.proc.poll() is None, "worker exited:\n" + "\n".join(self.lines)
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; worker output:\n" + "\n".join(self.lines))

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    def stop(self, timeout=15.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.reader.join(5)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def _env(url: str, index_dir: Path, extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_", "FLASK_"))}
    env.update({"DATABASE_URL": url, "SEARCH_INDEX_DIR": str(index_dir), "SECRET_KEY": "worker-test-secret",
                "REGISTRY_TODAY": "2026-06-01", "SEARCH_INDEXER": "external", "MESSAGE_DELIVERY": "worker",
                "WORKER_INTERVAL": "0.2", "WORKER_BACKOFF_MAX": "1", "WORKER_NAME": "process-test",
                "PYTHONUNBUFFERED": "", "PYTHONPATH": str(ROOT)})
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _reader_app(tmp_path, first, index_dir):
    """A web app on the worker's database and index directory, to look at what the worker did."""
    return _second_app(first, tmp_path / "reader", SEARCH_INDEX_DIR=str(index_dir), SEARCH_INDEXER="external")


def test_a_worker_process_survives_an_unreachable_database_catches_up_and_stops_on_sigterm(
        tmp_path, backend, smtp_server, sms_gateway):
    index_dir = tmp_path / "worker-index"
    gateway = {**gateway_settings(smtp_server, sms_gateway)}
    if backend == "postgresql":
        from sqlalchemy.engine import make_url
        app = make_app(tmp_path / "web", backend, SEARCH_INDEXER="external", MESSAGE_DELIVERY="worker", **gateway)
        real = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        proxy = TcpProxy((real.host or "127.0.0.1", real.port or 5432))
        url = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    else:
        proxy = None
        url = f"sqlite:///{tmp_path / 'web' / 'test.db'}"  # the directory does not exist yet: unreachable
        app = None
    worker = WorkerProcess(_env(url, index_dir, gateway), tmp_path / "worker-instance")
    reader = None
    try:
        # 1. No database: the worker logs the error, backs off, and keeps running.
        worker.wait_for(lambda: worker.count("database error") >= 2, what="two database errors")
        if app is None:
            app = make_app(tmp_path / "web", backend, SEARCH_INDEXER="external", MESSAGE_DELIVERY="worker", **gateway)
        with app.app_context():
            number = make_certificate(make_company(name="进程测试电器有限公司"), level="4").number
            db.session.commit()
        if proxy is not None:
            proxy.up()
        # 2. The database is back: heartbeat, today's tick, index built, a filed complaint's SMS delivered.
        response = app.test_client().post("/complaints/new", data=filing_form(number))
        assert response.status_code == 302
        worker.wait_for(lambda: len(sms_gateway.requests) == 1, what="the SMS")
        worker.wait_for(lambda: worker.count("database reachable again") >= 1, what="the recovery line")
        reader = _reader_app(tmp_path, app, index_dir)
        with reader.app_context():
            worker.wait_for(lambda: db.session.get(TickRun, dt.date(2026, 6, 1)) is not None or db.session.rollback(),
                            what="the tick")
            beat = db.session.get(WorkerHeartbeat, "process-test").beat_at
            assert (clock.utcnow() - beat).total_seconds() < 10
            db.session.rollback()
        worker.wait_for(lambda: result_names(search_page(reader.test_client(), q="进程测试")) == ["进程测试电器有限公司"],
                        what="the index")

        if proxy is not None:
            # 3. PostgreSQL goes away mid-run (every connection cut); a change is made meanwhile elsewhere.
            errors_before = worker.count("database error")
            proxy.down()
            worker.wait_for(lambda: worker.count("database error") > errors_before, what="an error after the cut")
            with app.app_context():
                queue_certificate(make_certificate(make_company(name="断线期间新增有限公司")).id)
                db.session.commit()
            time.sleep(1.5)
            assert worker.proc.poll() is None
            proxy.up()
            worker.wait_for(lambda: result_names(search_page(reader.test_client(), q="断线期间")) == ["断线期间新增有限公司"],
                            what="catching up after the outage")
        with reader.app_context():
            assert pending_count(db.session, state().store) == 0

        # 4. SIGTERM: a clean exit, and every line carried a timestamp as it came (line-buffered).
        assert worker.stop() == 0
        # The app's structured log format (registry/logs.py): one JSON object a line, time and level in each.
        logged = [line for line in worker.lines if line.strip()]
        records = [json.loads(line) for line in logged]
        assert records and all(TIMESTAMP.match(r["time"]) and r["level"] in LEVELS for r in records), "\n".join(logged)
        assert records[-1]["message"] == "worker stopped"
    finally:
        worker.kill()
        if proxy is not None:
            proxy.down()
        if reader is not None:
            close_app(reader, tmp_path / "reader")
        if app is not None:
            close_app(app, tmp_path / "web")


def test_several_worker_processes_send_each_message_exactly_once(tmp_path, backend, smtp_server, sms_gateway):
    from registry.complaints import messages
    from registry.messaging.models import OutgoingMessage

    gateway = gateway_settings(smtp_server, sms_gateway)
    app = make_app(tmp_path / "web", backend, SEARCH_INDEXER="external", MESSAGE_DELIVERY="worker", **gateway)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        for i in range(90):
            messages.queue(db.session, "email" if i % 3 else "sms", f"c{i}@example.com" if i % 3 else f"+86139{i:08d}",
                           f"通知 {i}", "内容")
        db.session.commit()
        expected = set(db.session.scalars(select(OutgoingMessage.id)))
    workers = [WorkerProcess(_env(url, tmp_path / f"index-{n}", {**gateway, "WORKER_NAME": f"w{n}"}),
                             tmp_path / f"instance-{n}") for n in range(3)]
    try:
        done = lambda: len(smtp_server.messages) + len(sms_gateway.requests) >= 90  # noqa: E731
        workers[0].wait_for(done, what="every message")
        time.sleep(1.0)  # a duplicate would arrive now
        for worker in workers:
            assert worker.stop() == 0
        sent = [int(m["X-Registry-Message"]) for m in smtp_server.messages]
        sent += [int(r["json"]["id"]) for r in sms_gateway.requests]
        assert sorted(sent) == sorted(expected)
        assert sum(1 for w in workers if w.count("messages:")) >= 1
    finally:
        for worker in workers:
            worker.kill()
        close_app(app, tmp_path / "web")
