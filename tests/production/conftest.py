"""Helpers for the production tests: a valid production configuration, subprocess environments."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "s" * 40
GOOD_QR_SECRET = "q" * 40


def production_config(tmp_path: Path, **overrides) -> dict:
    """Settings a production host would have (a SQLite file that exists, so no server is needed)."""
    database = tmp_path / "prod.db"
    database.touch()
    config = {
        "REGISTRY_ENV": "production",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": GOOD_SECRET,
        "QR_SECRET": GOOD_QR_SECRET,
        "PUBLIC_BASE_URL": "https://registry.example",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        "SEARCH_INDEX_DIR": str(tmp_path / "search_index"),
        "SIGNING_KEY_PATH": str(tmp_path / "signing-key.pem"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "REGISTRY_TODAY": "2026-06-01",
        "WTF_CSRF_ENABLED": False,
    }
    config.update(overrides)
    return config


def clean_environment(**extra) -> dict:
    """The process environment without any registry setting, plus `extra` (for `flask` subprocesses)."""
    from registry.config import environment_settings

    env = {k: v for k, v in os.environ.items() if k not in environment_settings() and k not in ("REGISTRY_ENV",
                                                                                                   "INSTANCE_PATH")}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def flask_command() -> list[str]:
    return [str(Path(sys.executable).with_name("flask"))]


@pytest.fixture
def pg_url():
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    return url
