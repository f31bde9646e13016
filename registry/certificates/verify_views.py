"""QR verification pages (/v/<number>), QR images and the star mark."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("verify", __name__)
