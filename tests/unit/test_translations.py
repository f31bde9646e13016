"""Every user-facing string in code and templates has a Chinese translation (zh-Hans is the default)."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from registry.i18n_compile import TRANSLATIONS, merged_catalog

ROOT = Path(__file__).resolve().parents[2]
METHOD_MAP = [("registry/**.py", "python"), ("templates/**.html", "jinja2")]


def extracted_messages() -> dict[str, str]:
    found = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(str(ROOT), METHOD_MAP):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, filename)
    return found


def test_every_message_has_a_chinese_translation():
    catalog = merged_catalog(TRANSLATIONS / "zh_Hans")
    missing = {msgid: where for msgid, where in extracted_messages().items() if not catalog.get(msgid)}
    assert not missing, "untranslated (add them to translations/zh_Hans/LC_MESSAGES/<domain>.po):\n" + "\n".join(
        f"{where}: {msgid}" for msgid, where in sorted(missing.items(), key=lambda kv: kv[1]))


def test_translations_keep_their_placeholders():
    catalog = merged_catalog(TRANSLATIONS / "zh_Hans")
    import re
    for message in catalog:
        if message.id and message.string:
            msgid = message.id if isinstance(message.id, str) else message.id[0]
            string = message.string if isinstance(message.string, str) else message.string[0]
            assert sorted(re.findall(r"%\(\w+\)s", msgid)) == sorted(re.findall(r"%\(\w+\)s", string)), msgid
