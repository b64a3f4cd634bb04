"""Small inline-SVG line charts (no plotting library, no network): KPIs across rounds."""

from __future__ import annotations

import math
from html import escape

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _fmt(v: float, integer: bool) -> str:
    if integer:
        return str(int(round(v)))
    return f"{v:.2f}"


def _ticks(lo: float, hi: float, integer: bool, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1
    if integer:
        step = max(1, math.ceil((hi - lo) / n))
        out, v = [], math.floor(lo)
        while True:
            out.append(float(v))
            if v >= hi:
                return out
            v += step
    step = (hi - lo) / n
    return [lo + i * step for i in range(n + 1)]


def line_chart(title: str, xs: list, series: list[tuple[str, list]], integer: bool = True,
               y_max: float | None = None, width: int = 380, height: int = 230,
               x_label: str = "round") -> str:
    """An SVG line chart; ``series`` is ``[(label, ys)]`` with ``None`` for missing points."""
    left, right, top, bottom = 44, 12, 28, 62
    pw, ph = width - left - right, height - top - bottom
    vals = [float(y) for _, ys in series for y in ys
            if isinstance(y, (int, float)) and not isinstance(y, bool) and math.isfinite(y)]
    lo = 0.0
    hi = max(vals) if vals else 1.0
    if y_max is not None:
        hi = max(hi, y_max)
    if hi <= lo:
        hi = lo + 1
    yt = _ticks(lo, hi, integer)
    hi = max(hi, yt[-1]) if yt else hi
    xs = list(xs)
    x_lo, x_hi = (min(xs), max(xs)) if xs else (0, 1)
    span = (x_hi - x_lo) or 1

    def px(x):
        return left + (x - x_lo) / span * pw if len(xs) > 1 else left + pw / 2

    def py(y):
        return top + ph - (y - lo) / (hi - lo) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{escape(title)}">',
           f'<text x="{width / 2}" y="16" text-anchor="middle" class="ct">{escape(title)}</text>',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" '
           f'stroke="#bbb"/>']
    for t in yt:
        y = py(t)
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="#eee"/><text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" '
                   f'class="tk">{_fmt(t, integer)}</text>')
    for x in xs:
        out.append(f'<text x="{px(x):.1f}" y="{top + ph + 14}" text-anchor="middle" '
                   f'class="tk">{escape(str(x))}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{top + ph + 28}" text-anchor="middle" '
               f'class="tk">{escape(x_label)}</text>')
    for i, (label, ys) in enumerate(series):
        c = COLORS[i % len(COLORS)]
        pts = [(px(x), py(float(y))) for x, y in zip(xs, ys)
               if isinstance(y, (int, float)) and not isinstance(y, bool) and math.isfinite(y)]
        if len(pts) > 1:
            out.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="'
                       + " ".join(f"{a:.1f},{b:.1f}" for a, b in pts) + '"/>')
        for (a, b), y in zip(pts, [y for y in ys if isinstance(y, (int, float))
                                   and not isinstance(y, bool) and math.isfinite(y)]):
            out.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{c}">'
                       f'<title>{escape(label)}: {_fmt(float(y), integer)}</title></circle>')
        lx = left + (i % 2) * (pw / 2)
        ly = top + ph + 42 + (i // 2) * 13
        out.append(f'<rect x="{lx}" y="{ly - 8}" width="10" height="3" fill="{c}"/>'
                   f'<text x="{lx + 14}" y="{ly - 4}" class="lg">{escape(label)}</text>')
    out.append("</svg>")
    return "".join(out)
