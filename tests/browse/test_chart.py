"""The work page's chart of views and bookmarks over time: inline SVG, one point per capture."""

from __future__ import annotations

import re

from pixivcrawl.browse.chart import HEIGHT, PAD, stats_chart


def test_chart_draws_both_counts_per_capture_with_first_and_last_values() -> None:
    chart = str(stats_chart([("2026-11-01", 100, 5), ("2026-11-02", 250, 9), ("2026-11-03", 400, 30)]))
    assert chart.startswith("<svg") and "<script" not in chart and "http" not in chart.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    lines = re.findall(r'<polyline [^>]*points="([^"]+)"', chart)
    assert len(lines) == 2
    for points in lines:
        ys = [float(p.split(",")[1]) for p in points.split()]
        assert len(ys) == 3 and ys[0] == HEIGHT - PAD and ys[-1] == PAD  # each line rises from bottom to top
    assert "views 100 → 400" in chart and "bookmarks 5 → 30" in chart and "3 captures" in chart


def test_no_captures_no_chart() -> None:
    assert str(stats_chart([])) == ""
