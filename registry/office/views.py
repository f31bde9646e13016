"""The certification body's back office."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("office", __name__, url_prefix="/office")
