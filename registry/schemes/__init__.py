"""Certification schemes as data: one TOML file per scheme in this folder, validated at start-up.

A level never means anything without its scheme, so every certificate stores its scheme id and the
scheme decides the score scale, the levels and their thresholds, validity and surveillance interval.
A malformed file stops start-up with SchemeError naming the file and the problem.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

SCHEME_DIR = Path(__file__).resolve().parent


class SchemeError(Exception):
    """A scheme file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Indicator:
    id: str
    name_zh: str
    name_en: str
    max_points: Decimal

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_zh


@dataclass(frozen=True)
class Category:
    id: str
    name_zh: str
    name_en: str
    max_points: Decimal
    indicators: tuple[Indicator, ...]

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_zh


@dataclass(frozen=True)
class Level:
    id: str
    name_zh: str
    name_en: str
    stars: int
    min_score: Decimal

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_zh


@dataclass(frozen=True)
class Scheme:
    id: str
    name_zh: str
    name_en: str
    short_zh: str
    short_en: str
    standard: str
    scale: Decimal
    validity_years: int
    surveillance_interval_months: int
    special_deduction_points: Decimal
    bonus_max: Decimal
    fail_at_special_deductions: int
    formula_version: str
    indicator_points_note: str
    levels: tuple[Level, ...]  # ascending by min_score
    categories: tuple[Category, ...]

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_zh

    def short_name(self, locale: str) -> str:
        return self.short_en if locale == "en" else self.short_zh

    @property
    def pass_score(self) -> Decimal:
        return self.levels[0].min_score

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(ind for cat in self.categories for ind in cat.indicators)

    def level(self, level_id: str) -> Level | None:
        return next((lvl for lvl in self.levels if lvl.id == level_id), None)

    def level_for_score(self, score: Decimal) -> Level | None:
        """The highest level whose threshold the score reaches (thresholds are inclusive)."""
        reached = [lvl for lvl in self.levels if score >= lvl.min_score]
        return reached[-1] if reached else None


def _require(data: dict, key: str, kind: type | tuple, where: str):
    if key not in data:
        raise SchemeError(f"{where}: missing '{key}'")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise SchemeError(f"{where}: '{key}' has the wrong type ({type(value).__name__})")
    return value


def _points(data: dict, key: str, where: str) -> Decimal:
    value = Decimal(str(_require(data, key, (int, float), where)))
    if value < 0:
        raise SchemeError(f"{where}: '{key}' must not be negative")
    return value


def parse_scheme(data: dict, filename: str) -> Scheme:
    """Build and validate a Scheme from parsed TOML; every error names the file."""
    where = filename
    levels = []
    for index, raw in enumerate(_require(data, "levels", list, where)):
        at = f"{where}: levels[{index}]"
        levels.append(Level(_require(raw, "id", str, at), _require(raw, "name_zh", str, at),
                            _require(raw, "name_en", str, at), _require(raw, "stars", int, at),
                            _points(raw, "min_score", at)))
    if not levels:
        raise SchemeError(f"{where}: at least one level is required")
    thresholds = [lvl.min_score for lvl in levels]
    if thresholds != sorted(thresholds) or len(set(thresholds)) != len(thresholds):
        raise SchemeError(f"{where}: level thresholds must be strictly ascending")
    if len({lvl.id for lvl in levels}) != len(levels):
        raise SchemeError(f"{where}: level ids must be unique")

    scale = _points(data, "scale", where)
    categories = []
    for index, raw in enumerate(_require(data, "categories", list, where)):
        at = f"{where}: categories[{index}]"
        indicators = []
        for j, ind in enumerate(_require(raw, "indicators", list, at)):
            at_ind = f"{at}.indicators[{j}]"
            indicators.append(Indicator(_require(ind, "id", str, at_ind), _require(ind, "name_zh", str, at_ind),
                                        _require(ind, "name_en", str, at_ind), _points(ind, "max_points", at_ind)))
        category = Category(_require(raw, "id", str, at), _require(raw, "name_zh", str, at),
                            _require(raw, "name_en", str, at), _points(raw, "max_points", at), tuple(indicators))
        total = sum((ind.max_points for ind in indicators), Decimal(0))
        if total != category.max_points:
            raise SchemeError(f"{at} ({category.id}): indicator points add up to {total}, "
                              f"not the category maximum {category.max_points}")
        categories.append(category)
    if sum((c.max_points for c in categories), Decimal(0)) != scale:
        raise SchemeError(f"{where}: category maxima do not add up to the scale {scale}")
    ids = [ind.id for c in categories for ind in c.indicators]
    if len(set(ids)) != len(ids):
        raise SchemeError(f"{where}: indicator ids must be unique")
    if thresholds[-1] > scale:
        raise SchemeError(f"{where}: a level threshold is above the scale {scale}")

    validity = _require(data, "validity_years", int, where)
    interval = _require(data, "surveillance_interval_months", int, where)
    if validity <= 0 or interval <= 0:
        raise SchemeError(f"{where}: validity and surveillance interval must be positive")
    return Scheme(
        id=_require(data, "id", str, where), name_zh=_require(data, "name_zh", str, where),
        name_en=_require(data, "name_en", str, where), short_zh=_require(data, "short_zh", str, where),
        short_en=_require(data, "short_en", str, where), standard=_require(data, "standard", str, where),
        scale=scale, validity_years=validity, surveillance_interval_months=interval,
        special_deduction_points=_points(data, "special_deduction_points", where),
        bonus_max=_points(data, "bonus_max", where),
        fail_at_special_deductions=_require(data, "fail_at_special_deductions", int, where),
        formula_version=_require(data, "formula_version", str, where),
        indicator_points_note=data.get("indicator_points_note", ""),
        levels=tuple(levels), categories=tuple(categories),
    )


def load_scheme_file(path: Path) -> Scheme:
    """Read and validate one scheme file; the scheme id must match the file name."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SchemeError(f"{path.name}: not valid TOML ({error})") from error
    scheme = parse_scheme(data, path.name)
    if scheme.id != path.stem:
        raise SchemeError(f"{path.name}: id '{scheme.id}' does not match the file name")
    return scheme


def load_schemes(directory: Path = SCHEME_DIR) -> dict[str, Scheme]:
    """All schemes in a folder, keyed by id."""
    schemes = {}
    for path in sorted(directory.glob("*.toml")):
        scheme = load_scheme_file(path)
        schemes[scheme.id] = scheme
    if not schemes:
        raise SchemeError(f"{directory}: no scheme files found")
    return schemes


_SCHEMES: dict[str, Scheme] | None = None


def all_schemes() -> dict[str, Scheme]:
    """The shipped schemes, loaded once per process (create_app loads them first, so errors stop start-up)."""
    global _SCHEMES
    if _SCHEMES is None:
        _SCHEMES = load_schemes()
    return _SCHEMES


def get_scheme(scheme_id: str) -> Scheme | None:
    return all_schemes().get(scheme_id)
