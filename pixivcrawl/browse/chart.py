"""A small inline SVG chart of a work's counts over time (no script, no CDN)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, PAD = 420, 120, 6
#: series name -> stroke colour
COLOURS = {"views": "#1f77b4", "bookmarks": "#d62728"}


def stats_chart(rows: Sequence[tuple[str, int | None, int | None]]) -> Markup:
    """Views and bookmarks per capture, each line scaled to its own range, with the first and last value."""
    if not rows:
        return Markup("")
    series = {"views": [r[1] or 0 for r in rows], "bookmarks": [r[2] or 0 for r in rows]}
    step = (WIDTH - 2 * PAD) / max(len(rows) - 1, 1)
    parts = [f'<svg class="pixiv-chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
             'xmlns="http://www.w3.org/2000/svg">',
             f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fafafa" stroke="#ddd"/>']
    for name, values in series.items():
        low, high = min(values), max(values)
        span = (high - low) or 1
        points = " ".join(
            f"{PAD + i * step:.1f},{HEIGHT - PAD - (v - low) / span * (HEIGHT - 2 * PAD):.1f}" for i, v in enumerate(values)
        )
        colour = COLOURS[name]
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
                     f"<title>{name}: {values[0]} to {values[-1]}</title></polyline>")
        for i, v in enumerate(values):
            x = PAD + i * step
            y = HEIGHT - PAD - (v - low) / span * (HEIGHT - 2 * PAD)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}">'
                         f"<title>{escape(str(rows[i][0]))}: {v} {name}</title></circle>")
    parts.append("</svg>")
    legend = " · ".join(
        f'<span style="color:{COLOURS[n]}">{n} {v[0]:,} → {v[-1]:,}</span>' for n, v in series.items()
    )
    return Markup("".join(parts) + f'<p class="pixiv-legend">{legend} ({len(rows)} captures, '
                  f"{escape(str(rows[0][0]))} to {escape(str(rows[-1][0]))})</p>")
