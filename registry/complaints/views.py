"""Consumer complaints: filing, tracking, company replies, moderation."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("complaints", __name__, url_prefix="/complaints")
