"""QR codes, check codes and the printable star mark (pure: no Flask, no database).

The QR on a product encodes `<PUBLIC_BASE_URL>/v/<number>?c=<check>` (plus `&l=<level>` on the star mark).
`check` is the first CHECK_LENGTH base32 characters of HMAC-SHA256(key, number): a code made up by a
forger does not match, and the verification page says so. The key is QR_SECRET when configured, else
derived from SECRET_KEY (see `check_key`); printed codes live for years, so rotating the key that signs
them invalidates every printed code: set QR_SECRET once and keep it.

Error correction is Q (25 %): a printed code survives scuffs and a small logo-free damage.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

import qrcode
import qrcode.constants
import qrcode.image.svg

CHECK_LENGTH = 8  # 40 bits: guessing a code for a given number takes ~10^12 tries
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_Q
_CHECK_CONTEXT = b"registry/qr-check/v1\x00"
_KEY_CONTEXT = b"registry qr check code key v1"


@lru_cache(maxsize=8)
def check_key(secret_key: str, qr_secret: str | None = None) -> bytes:
    """The HMAC key: QR_SECRET as given, or a key derived from SECRET_KEY (never SECRET_KEY itself)."""
    if qr_secret:
        return qr_secret.encode("utf-8")
    return hmac.new(secret_key.encode("utf-8"), _KEY_CONTEXT, hashlib.sha256).digest()


def check_code(number: str, key: bytes) -> str:
    """The short check code printed in the QR for certificate `number` (upper-case base32)."""
    digest = hmac.new(key, _CHECK_CONTEXT + number.encode("utf-8"), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:CHECK_LENGTH]


def is_valid_check(number: str, presented: str, key: bytes) -> bool:
    """Whether a presented code matches; tolerant of case and stray spaces, constant-time compare."""
    cleaned = "".join((presented or "").split()).upper()
    return hmac.compare_digest(cleaned.encode("ascii", "replace"), check_code(number, key).encode("ascii"))


def verify_url(base_url: str, number: str, check: str, printed_level: str | None = None) -> str:
    """The absolute URL a QR encodes: short, so the code stays small (version 4–6 at level Q)."""
    params = {"c": check}
    if printed_level:
        params["l"] = printed_level
    return f"{base_url.rstrip('/')}/v/{quote(number, safe='')}?{urlencode(params)}"


def _qr(data: str, border: int = 4) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=border, box_size=10)
    code.add_data(data)
    code.make(fit=True)
    return code


def qr_svg(data: str) -> bytes:
    """The QR as a standalone SVG (one path, scalable for print)."""
    code = _qr(data)
    image = code.make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="utf-8")


def qr_png(data: str, box_size: int = 10) -> bytes:
    """The QR as a black-on-white PNG (box_size pixels per module, 4-module quiet zone)."""
    code = _qr(data)
    code.box_size = box_size
    image = code.make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_matrix(data: str, border: int = 4) -> list[list[bool]]:
    """Modules (True = dark), including the quiet zone."""
    return _qr(data, border=border).get_matrix()


def matrix_path(matrix: list[list[bool]], x0: float = 0, y0: float = 0, module: float = 1) -> str:
    """An SVG path drawing the dark modules, one rectangle per horizontal run."""
    parts = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                run = x - start
                parts.append(f"M{_n(x0 + start * module)} {_n(y0 + y * module)}h{_n(run * module)}v{_n(module)}h-{_n(run * module)}z")
            else:
                x += 1
    return "".join(parts)


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class MarkText:
    """Everything printed on a star mark, already in the reader's language."""
    title: str          # e.g. 售后服务认证
    stars: int          # 0 for a level without stars (达标)
    level: str          # e.g. 五星
    scheme: str         # e.g. GB/T 27922
    number_label: str   # e.g. 证书编号
    number: str
    footer: str         # e.g. the registry's name / "scan to verify"


MARK_WIDTH = 400


def _fit(size: float, text: str, max_width: float) -> float:
    """A font size at which `text` fits max_width (estimate: CJK 1 em, Latin ~0.58 em per character)."""
    ems = sum(1.0 if ord(ch) > 0x2E7F else 0.58 for ch in text) or 1
    return round(min(size, max_width / ems), 1)


def _star_points(cx: float, cy: float, outer: float) -> str:
    import math
    inner = outer * 0.382
    points = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = math.pi / 2 + i * math.pi / 5
        points.append(f"{_n(cx + radius * math.cos(angle))},{_n(cy - radius * math.sin(angle))}")
    return " ".join(points)


def mark_svg(text: MarkText, qr_data: str) -> bytes:
    """The printable star mark: title, stars, level and scheme, the QR, the certificate number."""
    matrix = qr_matrix(qr_data, border=2)
    qr_size = 240
    module = qr_size / len(matrix)
    width = MARK_WIDTH
    star_row = 96 if text.stars else 0
    qr_top = 92 + star_row + 60
    height = qr_top + qr_size + 96
    qr_left = (width - qr_size) / 2
    colour = "#9b1c1c"
    items = [
        f'<rect x="4" y="4" width="{width - 8}" height="{height - 8}" rx="18" fill="#fff" stroke="{colour}" stroke-width="6"/>',
        f'<text x="{width / 2}" y="62" text-anchor="middle" font-size="{_fit(34, text.title, width - 48)}" font-weight="700" fill="{colour}">{escape(text.title)}</text>',
    ]
    if text.stars:
        count = min(text.stars, 9)
        size = min(64, (width - 60) / count)
        start = (width - size * count) / 2 + size / 2
        for i in range(count):
            items.append(f'<polygon points="{_star_points(start + i * size, 92 + size / 2 + 8, size * 0.46)}" fill="#c8900e"/>')
    level_y = 92 + star_row + 38
    level_size = _fit(34, text.level + " " * 2 + text.scheme, width - 48)
    items.append(f'<text x="{width / 2}" y="{level_y}" text-anchor="middle" font-size="{level_size}" font-weight="700" fill="#1b1f24">'
                 f'{escape(text.level)} <tspan font-size="{round(level_size * 0.6, 1)}" font-weight="400" fill="#5a6470">{escape(text.scheme)}</tspan></text>')
    items.append(f'<rect x="{_n(qr_left)}" y="{qr_top}" width="{qr_size}" height="{qr_size}" fill="#fff"/>')
    items.append(f'<path d="{matrix_path(matrix, qr_left, qr_top, module)}" fill="#000"/>')
    items.append(f'<text x="{width / 2}" y="{qr_top + qr_size + 34}" text-anchor="middle" font-size="18" fill="#1b1f24">'
                 f'{escape(text.number_label)} <tspan font-family="monospace" font-weight="700">{escape(text.number)}</tspan></text>')
    items.append(f'<text x="{width / 2}" y="{qr_top + qr_size + 64}" text-anchor="middle" font-size="{_fit(15, text.footer, width - 40)}" fill="#5a6470">{escape(text.footer)}</text>')
    svg = (f'<?xml version="1.0" encoding="UTF-8"?>\n'
           f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'font-family="\'Noto Sans CJK SC\', \'PingFang SC\', \'Microsoft YaHei\', sans-serif">'
           f'<title>{escape(text.title)} {escape(text.level)} {escape(text.number)}</title>'
           + "".join(items) + "</svg>")
    return svg.encode("utf-8")


FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


@lru_cache(maxsize=64)
def _font(size: int, extra_path: str | None = None):
    """A CJK-capable font if the system has one; otherwise Pillow's default (Latin only)."""
    from PIL import ImageFont
    for path in ((extra_path,) if extra_path else ()) + FONT_CANDIDATES:
        if path and os.path.exists(path):
            return ImageFont.truetype(path, size), True
    return ImageFont.load_default(size), False


def has_cjk_font(extra_path: str | None = None) -> bool:
    return _font(20, extra_path)[1]


def mark_png(text: MarkText, qr_data: str, scale: int = 2, font_path: str | None = None) -> bytes:
    """The star mark as PNG (MARK_WIDTH × scale pixels wide). Needs a CJK font for Chinese words."""
    from PIL import Image, ImageDraw

    matrix = qr_matrix(qr_data, border=2)
    box = max(1, round(240 * scale / len(matrix)))
    qr_size = box * len(matrix)
    width = MARK_WIDTH * scale
    star_row = 96 * scale if text.stars else 0
    qr_top = 92 * scale + star_row + 60 * scale
    height = qr_top + qr_size + 96 * scale
    colour, ink, muted, gold = (155, 28, 28), (27, 31, 36), (90, 100, 112), (200, 144, 14)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4 * scale, 4 * scale, width - 4 * scale, height - 4 * scale), radius=18 * scale,
                           outline=colour, width=6 * scale)
    centre = width / 2

    def fitted(size: int, line: str, margin: int = 48):
        font = _font(size, font_path)[0]
        while size > 8 and draw.textlength(line, font=font) > width - margin * scale:
            size -= 2
            font = _font(size, font_path)[0]
        return font

    draw.text((centre, 62 * scale), text.title, fill=colour, font=fitted(34 * scale, text.title), anchor="ms")
    if text.stars:
        count = min(text.stars, 9)
        size = min(64, (MARK_WIDTH - 60) / count) * scale
        start = (width - size * count) / 2 + size / 2
        for i in range(count):
            points = [tuple(float(v) for v in p.split(",")) for p in _star_points(start + i * size, 92 * scale + size / 2 + 8 * scale, size * 0.46).split()]
            draw.polygon(points, fill=gold)
    level_y = 92 * scale + star_row + 38 * scale
    level_line = f"{text.level}  {text.scheme}"
    draw.text((centre, level_y), level_line, fill=ink, font=fitted(30 * scale, level_line), anchor="ms")
    qr_left = (width - qr_size) // 2
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                draw.rectangle((qr_left + x * box, qr_top + y * box, qr_left + (x + 1) * box - 1, qr_top + (y + 1) * box - 1), fill="black")
    number_line = f"{text.number_label} {text.number}"
    draw.text((centre, qr_top + qr_size + 34 * scale), number_line, fill=ink, font=fitted(18 * scale, number_line), anchor="ms")
    draw.text((centre, qr_top + qr_size + 64 * scale), text.footer, fill=muted, font=fitted(15 * scale, text.footer, 40), anchor="ms")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(300, 300))
    return buffer.getvalue()


def etag_for(*parts: str | bytes) -> str:
    """A strong validator for generated images (same inputs → same bytes → same tag)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()[:32]
