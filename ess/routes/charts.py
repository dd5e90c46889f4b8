"""Charts drawn on the server as SVG (no JavaScript): each is an image with a title and description, and every page
that shows one shows the same figures in a table beside it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from markupsafe import Markup, escape

from ess.domain.analytics.model import Annotation, TrendPoint

WIDTH = 320
BAR = 18
GAP = 8
LABEL = 130


def bar_chart(rows: Sequence[tuple[str, float]], *, title: str) -> Markup:
    """Horizontal bars of rates (0..1), one per row, labelled with the percentage."""
    if not rows:
        return Markup("")
    height = len(rows) * (BAR + GAP) + GAP
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
        f'preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>'
    ]
    span = WIDTH - LABEL - 40
    for index, (label, rate) in enumerate(rows):
        y = GAP + index * (BAR + GAP)
        width = max(round(span * min(max(rate, 0.0), 1.0)), 1)
        parts.append(
            f'<text x="0" y="{y + BAR - 5}" class="chart-label">{escape(label[:22])}</text>'
            f'<rect x="{LABEL}" y="{y}" width="{width}" height="{BAR}" class="chart-bar"/>'
            f'<text x="{LABEL + width + 4}" y="{y + BAR - 5}" class="chart-value">{round(rate * 100)} %</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape() above


def trend_chart(points: Sequence[TrendPoint], notes: Sequence[Annotation], *, title: str) -> Markup:
    """Columns of journeys started per period (completed as the darker part); annotations as markers."""
    shown = [p for p in points if not p.suppressed]
    if not shown:
        return Markup("")
    height, top, base = 140, 10, 120
    peak = max(p.started for p in shown) or 1
    step = (WIDTH - 20) / max(len(points), 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
        f'preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>'
        f'<line x1="10" y1="{base}" x2="{WIDTH - 10}" y2="{base}" class="chart-axis"/>'
    ]
    for index, point in enumerate(points):
        x = 10 + index * step
        width = max(step - 4, 2)
        started = (base - top) * point.started / peak
        completed = (base - top) * point.completed / peak
        parts.append(
            f'<rect x="{x:.1f}" y="{base - started:.1f}" width="{width:.1f}" height="{started:.1f}" '
            f'class="chart-bar-light"/><rect x="{x:.1f}" y="{base - completed:.1f}" width="{width:.1f}" '
            f'height="{completed:.1f}" class="chart-bar"/>'
        )
        if any(_within(n.day, point.start, points, index) for n in notes):
            parts.append(f'<circle cx="{x + width / 2:.1f}" cy="{base + 10}" r="4" class="chart-note"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape() above


def _within(day: date, start: date, points: Sequence[TrendPoint], index: int) -> bool:
    end = points[index + 1].start if index + 1 < len(points) else None
    return start <= day and (end is None or day < end)
