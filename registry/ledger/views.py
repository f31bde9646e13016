"""Public ledger export (/ledger.jsonl)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ledger", __name__)
