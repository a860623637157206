"""Small server-side SVG charts for the reports: horizontal bars and stacked horizontal bars.

Why our own ~150 lines and not a library (docs/dependencies.md): the reports need two chart types
whose every number is also printed as text; pygal would bring its own stylesheet and script for
tooltips (blocked by our Content-Security-Policy, and dead weight in a PDF) and a dependency to keep
up. The same SVG string goes into the page (inline, so no request and no CDN) and into the PDF
(WeasyPrint draws inline SVG).

Accessibility and phones: the ``<svg>`` has ``role="img"``, a ``<title>`` and a ``<desc>`` listing every
value; every bar has its label on its own line above it and its values as text, so nothing depends
on colour or hovering; the drawing scales to the width of the screen (``viewBox``, no fixed width)
and is 400 units wide, so 13-unit text stays readable on a 360-pixel phone. No ``style`` attributes
(presentation attributes only), so the strict CSP holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

WIDTH = 400
BAR = 16
LABEL = 16  # the line of text above a bar
GAP = 10
FONT = 13


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    colour: str


def _number(value: Decimal | int | float) -> str:
    text = f"{value}"
    return text[:-2] if text.endswith(".0") else text


def _open(chart_id: str, title: str, desc: str, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="{chart_id}-t {chart_id}-d" font-family="DejaVu Sans, sans-serif" '
        f'font-size="{FONT}">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]


def _legend(series: Sequence[Series], y: int) -> tuple[list[str], int]:
    """The colour keys in lines across the width; returns the markup and the y of its last line."""
    out: list[str] = []
    x = 0
    for s in series:
        width = 18 + 8 * len(s.label)
        if x and x + width > WIDTH:
            x, y = 0, y + LABEL
        out.append(f'<rect x="{x}" y="{y - 10}" width="10" height="10" fill={quoteattr(s.colour)}/>')
        out.append(f'<text x="{x + 14}" y="{y}">{escape(s.label)}</text>')
        x += width
    return out, y


def stacked_bars(
    chart_id: str, title: str, series: Sequence[Series], rows: Sequence[tuple[str, dict[str, int]]]
) -> str:
    """One stacked bar per row (e.g. students by level), its values as text: "high 5 · sufficient 9 …"."""
    legend, legend_height = _legend(series, FONT)
    height = legend_height + GAP + len(rows) * (LABEL + BAR + GAP)
    desc = "; ".join(
        f"{label}: " + ", ".join(f"{s.label} {values.get(s.key, 0)}" for s in series) for label, values in rows
    )
    out = _open(chart_id, title, desc, height) + legend
    y = legend_height + GAP
    for label, values in rows:
        total = sum(values.get(s.key, 0) for s in series)
        text = " · ".join(_number(values.get(s.key, 0)) for s in series)
        out.append(f'<text x="0" y="{y + FONT}">{escape(label)} <tspan fill="#444">({escape(text)})</tspan></text>')
        x = 0.0
        for s in series:
            value = values.get(s.key, 0)
            if not value or not total:
                continue
            width = WIDTH * value / total
            out.append(
                f'<rect x="{x:.1f}" y="{y + LABEL + 2}" width="{width:.1f}" height="{BAR}" fill={quoteattr(s.colour)}>'
                f"<title>{escape(f'{label}: {s.label} {value}')}</title></rect>"
            )
            x += width
        y += LABEL + BAR + GAP
    out.append("</svg>")
    return "".join(out)


def bars(
    chart_id: str,
    title: str,
    series: Sequence[Series],
    rows: Sequence[tuple[str, dict[str, Decimal | None]]],
    *,
    maximum: Decimal | int = 100,
    unit: str = "%",
) -> str:
    """Side-by-side bars per row (e.g. success and quality in per cent), each with its value as text."""
    legend, legend_height = _legend(series, FONT)
    height = legend_height + GAP + len(rows) * (LABEL + 2 + len(series) * (BAR + 2) + GAP)
    desc = "; ".join(
        f"{label}: " + ", ".join(f"{s.label} {_shown(values.get(s.key), unit)}" for s in series)
        for label, values in rows
    )
    out = _open(chart_id, title, desc, height) + legend
    y = legend_height + GAP
    for label, values in rows:
        out.append(f'<text x="0" y="{y + FONT}">{escape(label)}</text>')
        y += LABEL + 2
        for s in series:
            value = values.get(s.key)
            share = float(value) / float(maximum) if value is not None and maximum else 0.0
            width = max(0.0, min(1.0, share)) * (WIDTH - 70)
            out.append(f'<rect x="0" y="{y}" width="{width:.1f}" height="{BAR}" fill={quoteattr(s.colour)}/>')
            out.append(f'<text x="{width + 4:.1f}" y="{y + FONT - 1}">{escape(_shown(value, unit))}</text>')
            y += BAR + 2
        y += GAP
    out.append("</svg>")
    return "".join(out)


def _shown(value: Decimal | None, unit: str) -> str:
    return "—" if value is None else f"{_number(value)}{unit}"
