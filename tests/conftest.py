"""Fixtures: a real app on a real database (SQLite always; PostgreSQL too when TEST_DATABASE_URL is set),
a real Whoosh index directory under tmp_path, and a test client."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text

from registry import create_app
from registry.extensions import db

# CI explores the same generated cases on every run (derandomized), so a red build is reproducible and
# never depends on luck; locally, Hypothesis keeps exploring new cases and remembers failures.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
PINNED_TODAY = "2026-06-01"
_pg_schema_ready = False


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


def _database_url(backend: str, tmp_path: Path) -> str:
    if backend == "postgresql":
        return os.environ["TEST_DATABASE_URL"]
    return f"sqlite:///{tmp_path / 'test.db'}"


def make_app(tmp_path: Path, backend: str = "sqlite", **overrides):
    """A configured app on a fresh database (used by the fixtures and by tests needing special config)."""
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": _database_url(backend, tmp_path),
        "SEARCH_INDEX_DIR": str(tmp_path / "search_index"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "REGISTRY_TODAY": PINNED_TODAY,
        "PUBLIC_BASE_URL": "https://registry.test",
        "SIGNING_KEY_PATH": str(tmp_path / "signing-key.pem"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        # Most tests close a complaint right after the company answers; tests of the consumer's window set it.
        "COMPLAINT_CONSUMER_CHOICE_WORKDAYS": 0,
    }
    config.update(overrides)
    app = create_app(config)
    with app.app_context():
        _fresh_schema(backend)
    return app


def _fresh_schema(backend: str) -> None:
    global _pg_schema_ready
    if backend == "sqlite":
        db.create_all()
        return
    # PostgreSQL: build the schema once per run, then empty every table before each test.
    if not _pg_schema_ready:
        db.drop_all()
        db.create_all()
        _pg_schema_ready = True
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


def close_app(app, tmp_path: Path) -> None:
    """Release the app's connections (PostgreSQL keeps them open otherwise) and drop its index folder."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    shutil.rmtree(tmp_path / "search_index", ignore_errors=True)


@pytest.fixture
def app(tmp_path, backend):
    app = make_app(tmp_path, backend)
    yield app
    close_app(app, tmp_path)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app
