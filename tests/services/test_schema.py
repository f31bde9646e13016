"""`flask registry init` builds the schema from the migrations, is safe to run twice, and the migrations
match the models (so nobody ships a model change without its migration)."""
from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from registry import create_app
from registry.extensions import db


def _app_on(url: str, tmp_path):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                       "SEARCH_INDEX_DIR": str(tmp_path / "idx"), "SECRET_KEY": "t"})


def _assert_schema_matches_models(app):
    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
    assert differences == [], f"models and migrations differ; run `flask db migrate`: {differences}"


def test_registry_init_creates_schema_twice_safely_on_sqlite(tmp_path):
    app = _app_on(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["registry", "init"])
    second = runner.invoke(args=["registry", "init"])
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    with app.app_context():
        assert "certificate" in inspect(db.engine).get_table_names()
    _assert_schema_matches_models(app)


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs TEST_DATABASE_URL")
def test_registry_init_on_postgresql_in_a_scratch_schema(tmp_path):
    url = os.environ["TEST_DATABASE_URL"]
    schema = "migration_check"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": "t",
                          "INSTANCE_PATH": str(tmp_path / "instance"),
                          "SEARCH_INDEX_DIR": str(tmp_path / "idx"),
                          "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}}})
        runner = app.test_cli_runner()
        assert runner.invoke(args=["registry", "init"]).exit_code == 0
        assert runner.invoke(args=["registry", "init"]).exit_code == 0
        _assert_schema_matches_models(app)
        with app.app_context():
            db.engine.dispose()
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()
