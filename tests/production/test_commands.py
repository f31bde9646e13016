"""Commands an operator runs: `flask` from any directory with the documented environment, concurrent
`registry init`, `demo load` refused in production before anything is written, `make run PORT=`."""
from __future__ import annotations

import os
import subprocess
import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.production.conftest import GOOD_QR_SECRET, GOOD_SECRET, ROOT, clean_environment, flask_command


def _flask(args, env, cwd, timeout=120):
    return subprocess.Popen([*flask_command(), *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_flask_runs_from_any_directory_and_keeps_its_database_in_the_instance_folder(tmp_path):
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    instance = tmp_path / "instance"
    env = clean_environment(FLASK_APP="registry", INSTANCE_PATH=instance, SEARCH_INDEX_DIR=tmp_path / "idx")
    result = subprocess.run([*flask_command(), "registry", "init"], cwd=elsewhere, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (instance / "registry.db").exists()
    assert not list(elsewhere.iterdir())


def test_two_concurrent_inits_on_sqlite_both_succeed(tmp_path):
    env = clean_environment(FLASK_APP="registry", INSTANCE_PATH=tmp_path / "instance",
                            SEARCH_INDEX_DIR=tmp_path / "idx")
    runs = [_flask(["registry", "init"], env, tmp_path) for _ in range(2)]
    results = [(run.wait(timeout=180), run.communicate()) for run in runs]
    assert [code for code, _ in results] == [0, 0], [out for _, out in results]


@pytest.fixture
def pg_schema(pg_url):
    """A PostgreSQL schema of its own, so migrations run on an empty database without touching the test tables."""
    name = f"init_{uuid.uuid4().hex[:8]}"
    engine = create_engine(pg_url)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    separator = "&" if "?" in pg_url else "?"
    yield f"{pg_url}{separator}options=-csearch_path%3D{name}", name, engine
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    engine.dispose()


def test_two_concurrent_inits_on_postgresql_both_succeed_and_migrate_once(tmp_path, pg_schema):
    url, schema, engine = pg_schema
    env = clean_environment(FLASK_APP="registry", INSTANCE_PATH=tmp_path / "instance", DATABASE_URL=url,
                            SEARCH_INDEX_DIR=tmp_path / "idx")
    runs = [_flask(["registry", "init"], env, tmp_path) for _ in range(3)]
    results = [(run.wait(timeout=180), run.communicate()) for run in runs]
    assert [code for code, _ in results] == [0, 0, 0], [out for _, out in results]
    with engine.connect() as connection:
        versions = connection.execute(text(f'SELECT count(*) FROM "{schema}".alembic_version')).scalar()
        tables = connection.execute(text("SELECT count(*) FROM information_schema.tables WHERE table_schema = :s"),
                                    {"s": schema}).scalar()
    assert versions == 1 and tables > 10


def test_demo_load_is_refused_in_production_before_anything_is_written(tmp_path):
    instance = tmp_path / "instance"
    base = clean_environment(FLASK_APP="registry", INSTANCE_PATH=instance, SEARCH_INDEX_DIR=tmp_path / "idx")
    assert subprocess.run([*flask_command(), "registry", "init"], cwd=tmp_path, env=base, capture_output=True,
                          timeout=120).returncode == 0
    database = instance / "registry.db"
    production = {**base, "REGISTRY_ENV": "production", "SECRET_KEY": GOOD_SECRET, "QR_SECRET": GOOD_QR_SECRET,
                  "PUBLIC_BASE_URL": "https://registry.example", "DATABASE_URL": f"sqlite:///{database}"}
    result = subprocess.run([*flask_command(), "demo", "load"], cwd=tmp_path, env=production, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1
    assert "Demo data is never loaded in production" in result.stderr and "Traceback" not in result.stderr
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        counts = [connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                  for table in ("company", "certificate", "user_account", "ledger_entry")]
    engine.dispose()
    assert counts == [0, 0, 0, 0]


def test_make_run_port_serves_on_that_port_and_prints_that_origin(tmp_path):
    recorder = tmp_path / "flask"
    log = tmp_path / "calls.txt"
    recorder.write_text(f'#!/bin/sh\necho "$PUBLIC_BASE_URL $DEMO_MODE $*" >> {log}\n')
    recorder.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "MAKEFLAGS", "MFLAGS")}
    result = subprocess.run(["make", "-s", "run", "PORT=5001", f"FLASK={recorder}"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert calls[-1] == "http://127.0.0.1:5001 1 run --host 127.0.0.1 --port 5001"
    assert all(call.startswith("http://127.0.0.1:5001 1 ") for call in calls)


def test_init_against_a_missing_postgresql_database_says_so_without_a_traceback(tmp_path, pg_url):
    missing = pg_url.rsplit("/", 1)[0] + "/registry_no_such_database"
    env = clean_environment(FLASK_APP="registry", INSTANCE_PATH=tmp_path / "instance", DATABASE_URL=missing,
                            SEARCH_INDEX_DIR=tmp_path / "idx")
    result = subprocess.run([*flask_command(), "registry", "init"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1
    assert "cannot reach the database" in result.stderr and "registry_no_such_database" in result.stderr
    assert "Traceback" not in result.stderr
