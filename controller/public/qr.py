"""QR codes for the public pages, made with segno (pure Python): SVG for screens and posters."""

from __future__ import annotations

import io

import segno

SVG_MEDIA_TYPE = "image/svg+xml"


def qr_svg(url: str, *, scale: int = 8, title: str = "") -> bytes:
    """A QR code of `url` as a standalone SVG (error correction M, a quiet zone of 4 modules)."""
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        buffer, kind="svg", scale=scale, border=4, title=title or None, svgclass=None, lineclass=None
    )
    return buffer.getvalue()


def qr_svg_inline(url: str, *, scale: int = 8, title: str = "") -> str:
    """The same QR code as an inline <svg> element for an HTML page (segno escapes the title)."""
    svg: str = segno.make(url, error="m", micro=False).svg_inline(
        scale=scale, border=4, title=title or None, svgclass="qr", lineclass=None
    )
    return svg
