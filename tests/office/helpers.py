"""Form data builders for the back-office tests."""
from __future__ import annotations

from registry.schemes import get_scheme

GBT = "gbt27922-2011"


def sheet_data(deficits: dict[str, str] | None = None, excluded: tuple[str, ...] = (), **extra) -> dict:
    """Full marks on every indicator except `deficits` {indicator: earned}; excluded ones ticked."""
    data = {"mode": "sheet", "audited_on": "2026-05-20", "special_deductions": "0", "bonus": "0"}
    for indicator in get_scheme(GBT).indicators:
        data[f"earned_{indicator.id}"] = (deficits or {}).get(indicator.id, str(indicator.max_points))
        if indicator.id in excluded:
            data[f"excluded_{indicator.id}"] = "y"
    data.update(extra)
    return data


SCORE_85 = {"customer_relations": "0", "complaint_handling": "10"}    # 100 - 12 - 3 = 85 → 三星
SCORE_96 = {"complaint_handling": "9"}  # 96 → 五星
SCORE_FAIL = {"customer_relations": "0", "complaint_handling": "0", "repair": "0"}  # 68 → not passed
