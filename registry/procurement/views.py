"""Procurement: bulk verification, signed receipts, feeds, open data."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("procurement", __name__)
