"""Translation catalogs (messages.mo, git-ignored) are compiled when missing or older than the .po files, safely
from several processes at once; a package installed with pip from the checkout (non-editable) speaks Chinese."""
from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from babel.support import Translations

from registry.i18n_compile import TRANSLATIONS, ensure_compiled
from tests.production.conftest import ROOT, clean_environment

QUESTION = "Is this after-sales service mark real?"
QUESTION_ZH = "这个售后服务认证标志是真的吗？"


def _copy_sources(tmp_path: Path) -> Path:
    target = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, target, ignore=shutil.ignore_patterns("*.mo", ".*"))
    return target


def _chinese(directory: Path) -> str:
    return Translations.load(str(directory), ["zh_Hans"]).gettext(QUESTION)


def test_missing_catalog_is_compiled(tmp_path):
    sources = _copy_sources(tmp_path)
    folders = ensure_compiled(sources, tmp_path / "fallback")
    assert folders == [str(sources)]
    assert _chinese(sources) == QUESTION_ZH


def test_catalog_older_than_a_po_file_is_compiled_again(tmp_path):
    sources = _copy_sources(tmp_path)
    ensure_compiled(sources, tmp_path / "fallback")
    compiled = sources / "zh_Hans" / "LC_MESSAGES" / "messages.mo"
    old = time.time() - 3600
    os.utime(compiled, (old, old))
    before = compiled.stat().st_mtime
    ensure_compiled(sources, tmp_path / "fallback")
    assert compiled.stat().st_mtime > before
    # Up to date: left alone.
    same = compiled.stat().st_mtime
    ensure_compiled(sources, tmp_path / "fallback")
    assert compiled.stat().st_mtime == same


def _compile_in_child(sources: str, fallback: str) -> None:
    ensure_compiled(Path(sources), Path(fallback))


def test_several_processes_compiling_at_once_leave_one_complete_catalog(tmp_path):
    sources = _copy_sources(tmp_path)
    context = multiprocessing.get_context("spawn")
    children = [context.Process(target=_compile_in_child, args=(str(sources), str(tmp_path / "fb")))
                for _ in range(4)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
    assert [child.exitcode for child in children] == [0, 0, 0, 0]
    assert _chinese(sources) == QUESTION_ZH
    assert sorted(p.name for p in (sources / "zh_Hans" / "LC_MESSAGES").iterdir() if p.suffix == ".mo") == ["messages.mo"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_package_folder_compiles_into_the_instance_folder(tmp_path):
    sources = _copy_sources(tmp_path)
    (sources / "zh_Hans" / "LC_MESSAGES").chmod(0o555)
    try:
        folders = ensure_compiled(sources, tmp_path / "instance" / "translations")
    finally:
        (sources / "zh_Hans" / "LC_MESSAGES").chmod(0o755)
    assert folders[0] == str(tmp_path / "instance" / "translations")
    assert _chinese(tmp_path / "instance" / "translations") == QUESTION_ZH


INSTALLED_CHECK = f"""
import registry, sys
from registry import create_app
app = create_app({{"TESTING": True, "INSTANCE_PATH": sys.argv[1], "SQLALCHEMY_DATABASE_URI": "sqlite:///" + sys.argv[1] + "/x.db",
                  "SEARCH_INDEX_DIR": sys.argv[1] + "/idx"}})
from registry.extensions import db
with app.app_context():
    db.create_all()
page = app.test_client().get("/", headers={{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}}).get_data(as_text=True)
print(registry.__file__)
print("CHINESE" if {QUESTION_ZH!r} in page else "ENGLISH" if {QUESTION!r} in page else "NEITHER")
"""


@pytest.mark.install
@pytest.mark.skipif(not (os.environ.get("CI") or os.environ.get("REGISTRY_INSTALL_TESTS")),
                    reason="installs the package into a fresh venv (about a minute): runs in CI, or set REGISTRY_INSTALL_TESTS=1")
def test_package_installed_with_pip_from_the_checkout_serves_chinese_to_a_chinese_browser(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # Non-editable, as an operator following the README does; the pip cache is reused.
    install = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", f"{ROOT}[production]"],
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stderr[-3000:]
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    result = subprocess.run([str(venv / "bin" / "python"), "-c", INSTALLED_CHECK, str(tmp_path / "instance")],
                            cwd=run_dir, capture_output=True, text=True, timeout=180, env=clean_environment())
    assert result.returncode == 0, result.stderr[-3000:]
    location, language = result.stdout.split()[-2:]
    assert location.startswith(str(venv))  # the installed copy, not the checkout
    assert language == "CHINESE"
    shipped = list(venv.glob("lib/python*/site-packages/registry/share/translations/zh_Hans/LC_MESSAGES/messages.mo"))
    assert shipped, "the package build did not ship compiled catalogs"
    redis = subprocess.run([str(venv / "bin" / "python"), "-c", "import redis"], capture_output=True, timeout=60)
    assert redis.returncode == 0  # the production extra brings the Redis client


def test_catalog_that_cannot_be_written_in_place_is_compiled_into_the_instance_folder(tmp_path):
    # Root writes anywhere, so a folder standing where messages.mo goes makes the rename fail, as a read-only
    # package folder does for a service user.
    sources = _copy_sources(tmp_path)
    blocker = sources / "zh_Hans" / "LC_MESSAGES" / "messages.mo"
    blocker.mkdir()
    os.utime(blocker, (0, 0))
    folders = ensure_compiled(sources, tmp_path / "instance" / "translations")
    assert folders == [str(tmp_path / "instance" / "translations"), str(sources)]
    assert _chinese(tmp_path / "instance" / "translations") == QUESTION_ZH
