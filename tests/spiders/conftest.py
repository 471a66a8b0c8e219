"""Helpers shared by the spider tests: fast settings and ground truth from the sandbox world."""

from __future__ import annotations

import math
from typing import Any

#: No downloads: spider tests assert on rows and requests; files are the media tests' business.
NO_FILES: dict[str, Any] = {"PIXIV_DOWNLOAD_FILES": False}


def pages(count: int, page_size: int = 30) -> int:
    """API pages a listing of ``count`` works takes (an empty listing still takes one)."""
    return max(1, math.ceil(count / page_size))


def routes(sandbox: Any) -> dict[str, int]:
    return sandbox.stats()["by_route"]
