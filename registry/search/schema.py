"""The Whoosh schema of the certificate index (one document per certificate).

Text fields hold tokens made by registry.search.analysis, space-separated (KEYWORD fields), so Whoosh never
analyses our text and the stored schema contains only Whoosh's own classes.
"""
from __future__ import annotations

from whoosh import columns, fields

# Bump when the schema or analysis changes: `flask search check` reports an index of another version,
# and `flask search rebuild` makes a new one.
SCHEMA_VERSION = 4

FACET_FIELDS = ("level", "status", "province", "industry", "scheme")
DISPLAY_KEYS = ("number", "name", "former_names", "scope", "sites", "province", "city", "industry", "scheme_id",
                "level", "status", "issued_on", "expires_on", "digest")


def _tokens(boost: float = 1.0) -> fields.KEYWORD:
    return fields.KEYWORD(lowercase=False, commas=False, scorable=True, field_boost=boost)


def build_schema() -> fields.Schema:
    return fields.Schema(
        cert_id=fields.ID(stored=True, unique=True),
        number_key=fields.ID,
        uscc_key=fields.ID,
        name_words=_tokens(4.0),
        former_words=_tokens(2.0),
        name_grams=_tokens(1.0),
        pinyin=fields.KEYWORD(lowercase=False, commas=False, field_boost=2.0),
        scope_words=_tokens(1.5),
        place_words=_tokens(1.0),
        # Facets and filters (exact values). `status` is the STORED status: the effective status is decided
        # at query time by the status rule from it and the date columns below, so it never goes stale.
        level=fields.ID(stored=True),
        status=fields.ID(stored=True),
        province=fields.ID(stored=True),
        industry=fields.ID(stored=True),
        scheme=fields.ID(stored=True),
        # Dates as day ordinals and the level's stars: value columns only (sorting, the expiry test), not
        # indexed terms, which made the build ~15 % slower for nothing.
        issued=fields.COLUMN(columns.NumericColumn("i")),
        expires=fields.COLUMN(columns.NumericColumn("i")),
        suspended_until=fields.COLUMN(columns.NumericColumn("i")),   # 0: not suspended until a date
        surveillance_due=fields.COLUMN(columns.NumericColumn("i")),  # 0: no due date
        level_rank=fields.COLUMN(columns.NumericColumn("i")),
        # What a result line shows, without a database round trip (a tuple in DISPLAY_KEYS order).
        display=fields.STORED,
    )


def pack_display(display: dict) -> tuple:
    return tuple(display.get(key) for key in DISPLAY_KEYS)


def unpack_display(packed) -> dict:
    return dict(zip(DISPLAY_KEYS, packed, strict=False))
