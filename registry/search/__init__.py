"""Full-text search: a Whoosh index derived from the database through the outbox.

Who writes the index is decided by SEARCH_INDEXER:
- "inline" (embedded default, one process): right after each commit that queued outbox rows, this
  process applies them (waiting at most SEARCH_INLINE_LOCK_WAIT seconds for the writer lock; if it is
  busy the rows simply stay pending for the next commit, `flask search sync` or the worker).
- "external" (gunicorn): web workers never open a writer; one worker process per host
  (`flask registry worker`) follows the outbox in batches by this index's own cursor.
Readers in every process keep one searcher open (registry.search.index.SearcherHolder).
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from registry.search.index import IndexBusy, IndexStore, IndexUnavailable, SearcherHolder
from registry.search.outbox import SearchOutbox

log = logging.getLogger(__name__)
EXTENSION = "registry.search"
MODES = ("inline", "external")


class SearchState:
    """Per-app search objects: the store, this process's searcher, the indexer mode."""

    def __init__(self, app: Flask):
        self.store = IndexStore(app.config["SEARCH_INDEX_DIR"])
        self.holder = SearcherHolder(self.store)
        mode = str(app.config.get("SEARCH_INDEXER", "inline")).strip().lower()
        self.mode = mode if mode in MODES else "inline"
        self.lock_wait = float(app.config.get("SEARCH_INLINE_LOCK_WAIT", 5.0))
        self.inline_build_max = int(app.config.get("SEARCH_INLINE_BUILD_MAX", 5000))


def state(app: Flask | None = None) -> SearchState:
    return (app or current_app).extensions[EXTENSION]


def init_app(app: Flask) -> None:
    """Hook the indexer into the app (applied after each commit in the embedded default)."""
    app.config.setdefault("SEARCH_INDEXER", "inline")
    app.config.setdefault("SEARCH_INLINE_LOCK_WAIT", 5.0)
    app.config.setdefault("SEARCH_INLINE_BUILD_MAX", 5000)
    app.config.setdefault("SEARCH_PER_PAGE", 20)
    app.config.setdefault("SEARCH_OUTBOX_GAP_SECONDS", 60.0)
    app.config.setdefault("SEARCH_OUTBOX_RETENTION_DAYS", 7.0)
    app.config.setdefault("SEARCH_OUTBOX_MAX_AGE", 300.0)
    app.extensions[EXTENSION] = SearchState(app)
    app.extensions["registry.search_health"] = health
    _install_session_hooks()


def health() -> dict:
    """What /healthz shows: index state, outbox rows this host's index has not applied (and the age of the
    oldest, degraded past SEARCH_OUTBOX_MAX_AGE seconds), indexer mode."""
    from registry import clock
    from registry.extensions import db
    from registry.search.indexer import pending_rows

    s = state()
    report: dict = {"indexer": s.mode}
    try:
        searcher, _ = s.holder.get()
        report["index"] = "ok"
        report["documents"] = searcher.doc_count()
    except IndexUnavailable as error:
        report["index"] = str(error)
    except Exception as error:  # never raise from the health page
        report["index"] = f"broken: {type(error).__name__}"
    backlog_too_old = False
    try:
        count, oldest = pending_rows(db.session, s.store)
        report["pending"] = count
        age = max(0.0, (clock.utcnow() - oldest).total_seconds()) if oldest is not None else 0.0
        report["oldest_pending_seconds"] = round(age, 1)
        backlog_too_old = age > float(current_app.config["SEARCH_OUTBOX_MAX_AGE"])
    except Exception as error:
        db.session.rollback()
        report["pending"] = f"error: {type(error).__name__}"
    if report["index"] == "missing" and register_is_empty():
        report["index"] = "not built yet (the register is empty)"
        report["status"] = "ok"
    else:
        report["status"] = "ok" if report["index"] == "ok" and not backlog_too_old else "degraded"
    if report["index"] != "ok" and report["status"] == "degraded":
        report["notice"] = "search answers from the database fallback; run `flask search rebuild`"
    elif backlog_too_old:
        report["notice"] = "this host's index lags the outbox: is `flask registry worker` running?"
    return report


def register_is_empty() -> bool:
    """No certificate at all: a missing index then loses nothing (a fresh install)."""
    from sqlalchemy import select

    from registry.certificates.models import Certificate
    from registry.extensions import db

    try:
        return db.session.scalar(select(Certificate.id).limit(1)) is None
    except Exception:
        return False


_hooks_installed = False


def _install_session_hooks() -> None:
    """Once per process: note flushed outbox rows; after commit apply them (inline mode)."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True

    @event.listens_for(Session, "after_flush")
    def _note_outbox(session, _flush_context):
        if any(isinstance(obj, SearchOutbox) for obj in session.new):
            session.info["search_outbox_pending"] = True

    @event.listens_for(Session, "after_soft_rollback")
    def _forget(session, _previous_transaction):
        if not session.in_transaction():
            session.info.pop("search_outbox_pending", None)

    @event.listens_for(Session, "after_commit")
    def _apply_after_commit(session):
        if not session.info.pop("search_outbox_pending", False):
            return
        if not has_app_context() or EXTENSION not in current_app.extensions:
            return
        s = state()
        if s.mode != "inline":
            return
        apply_inline(s)


def apply_inline(s: SearchState) -> None:
    """Apply pending rows now; never raise (the user's change is already committed and the rows persist)."""
    from registry.extensions import db
    from registry.search import indexer

    engine = db.engine
    try:
        indexer.apply_outbox(engine, s.store, wait=s.lock_wait)
    except IndexBusy:
        log.info("search index busy; outbox rows stay pending")
    except IndexUnavailable:
        # Embedded default: a missing index of a small register is simply built (first run, demo data).
        try:
            if indexer.certificate_count(engine) <= s.inline_build_max:
                indexer.rebuild(engine, s.store, procs=1)
        except Exception:
            log.exception("search index build after commit failed; search uses the database fallback")
    except Exception:
        log.exception("applying the search outbox failed; rows stay pending")
