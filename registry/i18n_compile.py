"""Merge every per-domain catalog of a locale into one messages.mo.

Run by `make install`, by the package build (setup.py) and, when a catalog is missing or older than its
.po files, by create_app at start-up (registry.i18n_compile.ensure_compiled).

Usage: python -m registry.i18n_compile [DIRECTORY]
"""
from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po


def _default_translations() -> Path:
    # The rule of registry.resources.resource_root, without importing the package: the build step (setup.py)
    # loads this file on its own, before the registry's dependencies are installed.
    package = Path(__file__).resolve().parent
    share = package / "share"
    return (share if (share / "templates").is_dir() else package.parent) / "translations"


TRANSLATIONS = _default_translations()
log = logging.getLogger(__name__)


def merged_catalog(locale_dir: Path) -> Catalog:
    """One catalog holding the messages of every .po file under locale_dir/LC_MESSAGES."""
    merged = Catalog(locale=locale_dir.name)
    for po_path in sorted((locale_dir / "LC_MESSAGES").glob("*.po")):
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=locale_dir.name)
        for message in catalog:
            if message.id and message.string:
                merged[message.id] = message
    return merged


def locale_dirs(directory: Path) -> list[Path]:
    return sorted(p for p in Path(directory).iterdir() if p.is_dir() and (p / "LC_MESSAGES").is_dir())


def write_catalog(catalog: Catalog, target: Path) -> None:
    """Write messages.mo through a temporary file and a rename, so a process reading it never sees half a file
    (several gunicorn workers may compile at the same moment; the last rename wins, all write the same bytes)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".messages-", suffix=".mo")
    try:
        with os.fdopen(fd, "wb") as handle:
            write_mo(handle, catalog)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def compile_all(directory: Path = TRANSLATIONS, output: Path | None = None) -> int:
    """Compile every locale of `directory` (into `output`, default the same tree); returns the message count."""
    count = 0
    for locale_dir in locale_dirs(directory):
        catalog = merged_catalog(locale_dir)
        write_catalog(catalog, Path(output or directory) / locale_dir.name / "LC_MESSAGES" / "messages.mo")
        count += len(catalog)
    return count


def is_stale(locale_dir: Path, compiled: Path) -> bool:
    """Missing, or older than any .po file it is made from."""
    try:
        built = compiled.stat().st_mtime
    except FileNotFoundError:
        return True
    return any(po.stat().st_mtime > built for po in (locale_dir / "LC_MESSAGES").glob("*.po"))


def ensure_compiled(directory: Path, fallback: Path) -> list[str]:
    """Compile the catalogs that are missing or stale; the folders Flask-Babel should read, first wins.

    A package installed read-only cannot be written to: then the catalogs are compiled into `fallback`
    (the instance folder), which is listed first.
    """
    directory, fallback = Path(directory), Path(fallback)
    use_fallback = False
    for locale_dir in locale_dirs(directory):
        target = locale_dir / "LC_MESSAGES" / "messages.mo"
        if not is_stale(locale_dir, target):
            continue
        try:
            write_catalog(merged_catalog(locale_dir), target)
            log.info("compiled translations for %s", locale_dir.name)
        except OSError:
            spare = fallback / locale_dir.name / "LC_MESSAGES" / "messages.mo"
            if is_stale(locale_dir, spare):
                write_catalog(merged_catalog(locale_dir), spare)
                log.info("compiled translations for %s into %s (package folder is read-only)", locale_dir.name, fallback)
            use_fallback = True
    return [str(fallback), str(directory)] if use_fallback else [str(directory)]


if __name__ == "__main__":
    total = compile_all(Path(sys.argv[1]) if len(sys.argv) > 1 else TRANSLATIONS)
    print(f"translations: {total} messages compiled", file=sys.stderr)
