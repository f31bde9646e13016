"""`flask registry worker`: the one supervised background process of a host.

Each loop it writes its heartbeat, applies the search outbox to this host's index (by the index's own
cursor), delivers due messages, and runs the daily tick when it is due: once per day at WORKER_TICK_AT
(Asia/Shanghai), and at start if today's tick has not run yet. Runs are recorded in tick_run, whose
primary key lets only one of several workers run a day's tick (the tick is idempotent anyway).

Database errors (an unreachable or restarting server, a timeout) never stop it: it logs one line, waits
with exponential backoff up to WORKER_BACKOFF_MAX seconds, and catches up when the database is back.
SIGTERM (systemd stop) and SIGINT finish the current step and exit 0.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import sys
import threading
import time

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from registry import clock
from registry.worker.models import TickRun, WorkerHeartbeat

log = logging.getLogger("registry.worker")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"
MAINTENANCE_EVERY = 600.0


def init_app(app: Flask) -> None:
    """Settings' defaults and the /healthz check of this host's worker."""
    defaults = {
        "WORKER_NAME": None,             # default: the host name
        "WORKER_INTERVAL": 1.0,          # seconds between loops when there is nothing to do
        "WORKER_TICK_AT": "00:10",       # local time (Asia/Shanghai) of the daily tick
        "WORKER_BACKOFF_MAX": 60.0,      # longest wait between attempts while the database is unreachable
        "WORKER_HEARTBEAT_MAX_AGE": 120.0,
    }
    for name, value in defaults.items():
        app.config.setdefault(name, value)
    app.extensions.setdefault("registry.health", {})["worker"] = health


def worker_name() -> str:
    return str(current_app.config.get("WORKER_NAME") or socket.gethostname())[:200]


def tick_time() -> dt.time:
    raw = str(current_app.config["WORKER_TICK_AT"]).strip()
    try:
        return dt.time.fromisoformat(raw)
    except ValueError:
        raise RuntimeError(f"WORKER_TICK_AT must look like 00:10, not {raw!r}") from None


def worker_expected() -> bool:
    """A worker is needed when the web processes leave indexing or delivery to it."""
    from registry.messaging import mode
    from registry.search import state
    return state().mode == "external" or mode() == "worker"


def health() -> dict:
    """/healthz: age of the last heartbeat of the worker following this host's index (any worker if none
    follows it); degraded past WORKER_HEARTBEAT_MAX_AGE seconds when a worker is expected."""
    from registry.extensions import db
    from registry.search import state
    from registry.search.indexer import index_identity

    expected = worker_expected()
    try:
        ident = index_identity(state().store, create=False)
        beat = None
        if ident:
            beat = db.session.scalar(select(WorkerHeartbeat.beat_at).where(WorkerHeartbeat.index_id == ident)
                                     .order_by(WorkerHeartbeat.beat_at.desc()).limit(1))
        if beat is None:
            beat = db.session.scalar(select(WorkerHeartbeat.beat_at).order_by(WorkerHeartbeat.beat_at.desc()).limit(1))
    except Exception as error:  # never raise from the health page
        db.session.rollback()
        return {"status": "degraded" if expected else "ok", "error": type(error).__name__}
    report: dict = {"expected": expected}
    if beat is None:
        report["last_heartbeat_seconds"] = None
        late = expected
    else:
        age = max(0.0, (clock.utcnow() - beat).total_seconds())
        report["last_heartbeat_seconds"] = round(age, 1)
        late = expected and age > float(current_app.config["WORKER_HEARTBEAT_MAX_AGE"])
    report["status"] = "degraded" if late else "ok"
    if late:
        report["notice"] = "no recent worker heartbeat: start `flask registry worker` (deploy/registry-worker.service)"
    return report


def configure_logging() -> None:
    """Line-buffered output with a timestamp on every line (journald, a pipe or a file alike)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True)
        except (AttributeError, ValueError):
            pass
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)


class Worker:
    """The loop; `run()` returns only when stopped (SIGTERM/SIGINT or `stop()`)."""

    def __init__(self, app: Flask, interval: float | None = None):
        self.app = app
        self.interval = float(app.config["WORKER_INTERVAL"] if interval is None else interval)
        self.stopping = threading.Event()
        self.failures = 0
        self.started_at = clock.utcnow()
        self.last_maintenance = 0.0
        self.start_tick_checked = False
        self.busy = False

    def stop(self, *_args) -> None:
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run(self, once: bool = False) -> bool:
        """Loop until stopped (or one pass if `once`); returns whether the last pass succeeded."""
        with self.app.app_context():
            log.info("worker %s started (pid %s, interval %.1f s, tick at %s Asia/Shanghai)", worker_name(),
                     os.getpid(), self.interval, tick_time().strftime("%H:%M"))
        ok = False
        while not self.stopping.is_set():
            ok = self.run_once()
            if once:
                break
            if ok:
                # After a busy pass go again at once: a backlog (catching up after an outage) drains fast.
                self.stopping.wait(0 if self.busy else self.interval)
            else:
                self.stopping.wait(self.backoff())
        log.info("worker stopped")
        return ok

    def backoff(self) -> float:
        cap = float(self.app.config["WORKER_BACKOFF_MAX"])
        return min(cap, 0.5 * 2 ** min(self.failures - 1, 16))

    def run_once(self) -> bool:
        """One pass of every duty; a failure is logged and counted, never raised."""
        from registry.extensions import db
        with self.app.app_context():
            try:
                busy = self.step()
                if self.failures:
                    log.info("database reachable again after %s failed attempts; catching up", self.failures)
                self.failures = 0
                self.busy = busy
                return True
            except DBAPIError as error:
                self.failures += 1
                reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
                log.warning("database error (%s: %s); retrying in %.1f s", type(error.orig or error).__name__,
                            reason[:200], self.backoff())
            except SQLAlchemyError as error:
                self.failures += 1
                log.warning("database error (%s: %s); retrying in %.1f s", type(error).__name__, str(error)[:200],
                            self.backoff())
            except Exception:
                self.failures += 1
                log.exception("worker step failed; retrying in %.1f s", self.backoff())
            finally:
                try:
                    db.session.remove()
                except Exception:
                    pass
            return False

    # -- the duties -------------------------------------------------------
    def step(self) -> bool:
        """Heartbeat, daily tick, search outbox, messages, occasional pruning; returns whether work was done."""
        self.heartbeat()
        ticked = self.maybe_tick()  # first, so this same pass indexes and sends what the tick changed
        applied = self.apply_search()
        report = self.deliver_messages()
        if time.monotonic() - self.last_maintenance > MAINTENANCE_EVERY:
            self.maintenance()
            self.last_maintenance = time.monotonic()
        return bool(applied or report.handled or ticked)

    def heartbeat(self) -> None:
        from registry.extensions import db
        from registry.search import state
        from registry.search.indexer import index_identity

        ident = index_identity(state().store)
        with Session(db.engine) as session:
            row = session.get(WorkerHeartbeat, worker_name())
            now = clock.utcnow()
            if row is None:
                session.add(WorkerHeartbeat(name=worker_name(), index_id=ident, pid=os.getpid(),
                                            started_at=self.started_at, beat_at=now))
            else:
                row.index_id, row.pid, row.started_at, row.beat_at = ident, os.getpid(), self.started_at, now
            try:
                session.commit()
            except IntegrityError:  # another worker of the same name inserted it first
                session.rollback()

    def apply_search(self) -> int:
        from registry.extensions import db
        from registry.search import indexer, state
        from registry.search.index import IndexBusy, IndexUnavailable

        store = state().store
        try:
            applied = indexer.apply_outbox(db.engine, store, wait=0.5)
        except IndexBusy:
            return 0
        except IndexUnavailable as error:
            log.info("search index unavailable (%s); building it", error)
            report = indexer.rebuild(db.engine, store)
            log.info("search index built: %s documents in %.1f s", report.documents, report.seconds)
            return report.documents
        if applied:
            log.info("search: applied %s outbox rows", applied)
        return applied

    def deliver_messages(self):
        from registry.extensions import db
        from registry.messaging.delivery import deliver_due

        report = deliver_due(db.engine)
        if report.handled:
            log.info("messages: %s sent, %s to retry, %s failed", report.sent, report.retrying, report.failed)
        return report

    def maybe_tick(self) -> bool:
        """Run today's tick if it is due and no worker has recorded it."""
        today = clock.today()
        at_start = not self.start_tick_checked
        if not at_start and clock.now().time() < tick_time():
            return False
        from registry.extensions import db
        done = db.session.get(TickRun, today) is not None
        db.session.rollback()
        self.start_tick_checked = True
        if done:
            return False
        return run_daily_tick(today, worker_name())

    def maintenance(self) -> None:
        from registry.extensions import db
        from registry.messaging.delivery import prune_sent
        from registry.search.indexer import prune_expired, prune_passed

        with Session(db.engine) as session:
            rows = prune_expired(session, float(current_app.config["SEARCH_OUTBOX_RETENTION_DAYS"]))
            rows += prune_passed(session)  # also after a host was forgotten or its cursor moved elsewhere
            messages = prune_sent(session, float(current_app.config["MESSAGE_RETENTION_DAYS"]))
            session.commit()
        if rows or messages:
            log.info("pruned %s search outbox rows, %s sent messages", rows, messages)


def run_daily_tick(today: dt.date, who: str) -> bool:
    """The daily tick, recorded in tick_run in the same transaction: returns False if another worker ran it."""
    from registry.complaints.services import mark_overdue
    from registry.extensions import db
    from registry.office.tick import run_tick

    try:
        db.session.add(TickRun(day=today, worker=who, finished_at=clock.utcnow()))
        db.session.flush()  # the primary key: a second worker stops here (or waits, then stops)
    except IntegrityError:
        db.session.rollback()
        return False
    summary = run_tick(today)
    complaints = mark_overdue(today)
    run = db.session.get(TickRun, today)
    run.summary = (f"{len(summary.expired)} expired, {len(summary.revoked)} revoked, {len(summary.suspended)} "
                   f"suspended; {complaints.overdue} complaints overdue")[:300]
    run.finished_at = clock.utcnow()
    db.session.commit()
    log.info("tick %s: %s", today.isoformat(), run.summary)
    return True


def command():
    """The click command `flask registry worker` (attached to the registry group in registry.main.cli)."""
    import click
    from flask.cli import with_appcontext

    @click.command("worker")
    @click.option("--interval", type=float, default=None, help="Seconds between loops when idle (WORKER_INTERVAL).")
    @click.option("--once", is_flag=True, help="Run every duty once and exit (status 1 if that failed).")
    @with_appcontext
    def worker_command(interval, once):
        """Run the background worker: search outbox, message delivery, daily tick. Runs until SIGTERM."""
        configure_logging()
        worker = Worker(current_app._get_current_object(), interval=interval)
        worker.install_signal_handlers()
        ok = worker.run(once=once)
        if once and not ok:
            raise SystemExit(1)

    return worker_command
