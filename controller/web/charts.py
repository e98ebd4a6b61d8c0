"""Server-rendered SVG: report bar charts and the cluster location view. No script, no map tiles."""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

from controller.reports.fleet import ClusterStatus
from controller.reports.labels import agent_status_vi
from controller.reports.summary import SummaryRow

WIDTH = 400
ROW_HEIGHT = 44
BAR_HEIGHT = 14
STATUS_COLOURS = {"online": "#1b7f3b", "offline": "#b3261e"}
UNKNOWN_COLOUR = "#8a8a8a"


def _label(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart_svg(rows: Sequence[SummaryRow], title: str) -> Markup:
    """One row per item: its name, then a bar of planned plays with the confirmed part filled in."""
    if not rows:
        return Markup("")
    peak = max(max(r.planned_plays, r.confirmed_plays) for r in rows) or 1
    height = ROW_HEIGHT * len(rows) + 28
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        '<g font-size="13" font-family="system-ui, sans-serif">',
        '<rect x="0" y="4" width="12" height="12" fill="#1b5e9e"/><text x="16" y="15">Đã xác nhận</text>'
        '<rect x="110" y="4" width="12" height="12" fill="#c9d8ea"/><text x="126" y="15">Kế hoạch</text>',
    ]
    usable = WIDTH - 90
    for i, r in enumerate(rows):
        y = 28 + i * ROW_HEIGHT
        planned_w = usable * r.planned_plays / peak
        confirmed_w = usable * r.confirmed_plays / peak
        parts.append(f'<text x="0" y="{y + 13}">{escape(_label(r.label))}</text>')
        parts.append(
            f'<rect x="0" y="{y + 18}" width="{planned_w:.1f}" height="{BAR_HEIGHT}" fill="#c9d8ea">'
            f"<title>Kế hoạch: {r.planned_plays}</title></rect>"
        )
        parts.append(
            f'<rect x="0" y="{y + 18}" width="{confirmed_w:.1f}" height="{BAR_HEIGHT}" fill="#1b5e9e">'
            f"<title>Đã xác nhận: {r.confirmed_plays}</title></rect>"
        )
        parts.append(
            f'<text x="{max(planned_w, confirmed_w) + 6:.1f}" y="{y + 30}">'
            f"{r.confirmed_plays}/{r.planned_plays} ({r.completion_rate:g}%)</text>"
        )
    parts.append("</g></svg>")
    return Markup("".join(parts))


def location_svg(clusters: Sequence[ClusterStatus], width: int = WIDTH, height: int = 300) -> Markup:
    """Clusters placed by their stored latitude and longitude, coloured by status, on a plain background."""
    placed = [(c, c.latitude, c.longitude) for c in clusters if c.latitude is not None and c.longitude is not None]
    if not placed:
        return Markup("")
    lats = [lat for _, lat, _ in placed]
    lons = [lon for _, _, lon in placed]
    mid_lat = math.radians((min(lats) + max(lats)) / 2)
    # Equirectangular: a degree of longitude is cos(latitude) as long as a degree of latitude.
    span_x = max((max(lons) - min(lons)) * math.cos(mid_lat), 1e-4)
    span_y = max(max(lats) - min(lats), 1e-4)
    pad = 24
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
    parts = [
        f'<svg class="map" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Vị trí {len(placed)} cụm loa" xmlns="http://www.w3.org/2000/svg">',
        f'<rect width="{width}" height="{height}" fill="#f3f6f4" stroke="#c8d0cc"/>',
        '<g font-size="10" font-family="system-ui, sans-serif">',
    ]
    for c, lat, lon in placed:
        x = pad + (lon - min(lons)) * math.cos(mid_lat) * scale
        y = height - pad - (lat - min(lats)) * scale
        colour = STATUS_COLOURS.get(c.status, UNKNOWN_COLOUR)
        tip = f"{c.name} ({c.village_name}): {agent_status_vi(c.status)}"
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{colour}" stroke="#fff" stroke-width="1.5">'
            f"<title>{escape(tip)}</title></circle>"
            f'<text x="{x + 8:.1f}" y="{y + 3:.1f}">{escape(_label(c.name, 16))}</text>'
        )
    parts.append("</g></svg>")
    return Markup("".join(parts))
