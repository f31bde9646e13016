"""The package build step: ship templates, static files, translations and migrations inside the package, with
the translation catalogs (messages.mo, git-ignored) compiled, so `pip install '.[production]'` from a checkout
gives a complete registry. Everything else about the package is in pyproject.toml."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
FOLDERS = ("templates", "static", "translations", "migrations")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", ".*")


def _compiler():
    """registry/i18n_compile.py loaded by itself (importing `registry` would need Flask in the build env)."""
    spec = importlib.util.spec_from_file_location("_registry_i18n_compile", ROOT / "registry" / "i18n_compile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildWithResources(build_py):
    def run(self):
        super().run()
        compile_all = _compiler().compile_all

        if getattr(self, "editable_mode", False):
            # An editable install reads the checkout's own folders: compile its catalogs in place.
            compile_all(ROOT / "translations")
            return
        share = Path(self.build_lib) / "registry" / "share"
        shutil.rmtree(share, ignore_errors=True)
        for name in FOLDERS:
            shutil.copytree(ROOT / name, share / name, ignore=SKIP)
        compile_all(share / "translations")


setup(cmdclass={"build_py": BuildWithResources})
