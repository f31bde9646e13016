"""A per-process cache of what /v/<number> shows, so a scan of a popular product needs no database read.

Correctness first: any committed change to a certificate or company row, in any worker on this host,
touches a version file (`<instance>/verify-cache.version`); every worker compares that file's stamp
(one stat() call) before using a cached entry, so a suspension shows on the very next scan. The stamp is
read *before* the database, so an entry can only be older than its stamp, never newer. Changes the ORM
does not see (SQL typed by hand, another host writing the same database) are bounded by
VERIFY_CACHE_SECONDS (default 60; 0 turns the cache off).
"""
from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

VERSION_FILE = "verify-cache.version"
DEFAULT_SECONDS = 60
MAX_ENTRIES = 10_000
_TRACKED_TABLES = frozenset({"certificate", "company"})
_bump_lock = threading.Lock()


def version_path(instance_path: str) -> str:
    return os.path.join(instance_path, VERSION_FILE)


def read_version(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return 0


def bump_version(path: str) -> None:
    """Give the version file a new, strictly larger stamp (nanoseconds, set explicitly: no coarse clock ticks)."""
    with _bump_lock:
        stamp = max(time.time_ns(), read_version(path) + 1)
        try:
            with open(path, "a"):
                pass
            os.utime(path, ns=(stamp, stamp))
        except OSError:  # a read-only instance folder: the time bound still applies
            pass


class FactsCache:
    """LRU of number → (facts, version, fetched_at), thread-safe for threaded servers."""

    def __init__(self, path: str, max_age: float, size: int = MAX_ENTRIES):
        self.path, self.max_age, self.size = path, max_age, size
        self.entries: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get_or_load(self, key: str, load):
        if self.max_age <= 0:
            return load()
        version = read_version(self.path)
        now = time.monotonic()
        with self.lock:
            hit = self.entries.get(key)
            if hit is not None and hit[1] == version and now - hit[2] < self.max_age:
                self.entries.move_to_end(key)
                return hit[0]
        facts = load()
        if facts is not None:
            with self.lock:
                self.entries[key] = (facts, version, now)
                if len(self.entries) > self.size:
                    self.entries.popitem(last=False)
        return facts


def facts_cache() -> FactsCache:
    app = current_app._get_current_object()
    cache = app.extensions.get("verify_facts_cache")
    if cache is None:
        seconds = float(app.config.get("VERIFY_CACHE_SECONDS", DEFAULT_SECONDS))
        cache = app.extensions.setdefault("verify_facts_cache", FactsCache(version_path(app.instance_path), seconds))
    return cache


# --- invalidation: mark sessions that change tracked rows, bump the version after their commit

@event.listens_for(Session, "before_flush")
def _note_changes(session, _flush_context, _instances):
    for obj in (*session.new, *session.dirty, *session.deleted):
        if getattr(obj, "__tablename__", None) in _TRACKED_TABLES:
            session.info["verify_cache_dirty"] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state):
    if state.is_update or state.is_delete:
        state.session.info["verify_cache_dirty"] = True


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session):
    if session.info.pop("verify_cache_dirty", False):
        try:
            path = version_path(current_app.instance_path)
        except RuntimeError:  # no app context (a script using the models directly)
            return
        bump_version(path)

