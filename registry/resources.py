"""Where the files beside the Python code live: templates, static, translations, migrations.

In a checkout (and an editable install) they are the top-level folders next to `registry/`. A package
built from the checkout (`pip install '.[production]'`, non-editable) carries copies of them inside the
package, under `registry/share/` (filled by the build step in setup.py, with the catalogs compiled), so an
installed registry never depends on the directory it was installed from or the one it runs in.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SHARE_DIR = PACKAGE_DIR / "share"
CHECKOUT_DIR = PACKAGE_DIR.parent
SHARED_FOLDERS = ("templates", "static", "translations", "migrations")


def resource_root() -> Path:
    """The folder holding templates/, static/, translations/ and migrations/ for this copy of the code."""
    return SHARE_DIR if (SHARE_DIR / "templates").is_dir() else CHECKOUT_DIR


def resource(name: str) -> Path:
    return resource_root() / name
