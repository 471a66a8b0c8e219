"""A sandbox archive to browse: real crawls (subprocesses) against a sandbox in a thread."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.crawl import Archive, RunningSandbox, crawl_values, scrapy_command

#: The crawls behind the browse tests: a day ranking (with ugoira), an R-18 ranking, a novel ranking
#: (texts with embedded images), a novel with its text.
#: The rankings of one fixed day (the default, yesterday in Japan, would change what they hold at
#: 15:00 UTC): this one's first pages hold hidden works and ugoira.
DATE = "2026-11-29"
CRAWLS: list[list[str]] = [
    ["ranking", "-a", "mode=day", "-a", "pages=2", "-a", f"date={DATE}"],
    ["ranking", "-a", "mode=day_r18", "-a", "pages=1", "-a", f"date={DATE}"],
    ["ranking", "-a", "type=novel", "-a", "mode=day", "-a", "pages=1", "-a", f"date={DATE}"],
    ["novel", "-a", "novel_id=20000007"],
]


def setting_args(values: dict[str, Any]) -> list[str]:
    args = []
    for name in ("PIXIV_API_URL", "PIXIV_AUTH_URL", "PIXIV_REFRESH_TOKEN", "PIXIV_DATABASE_URL", "FILES_STORE",
                 "PIXIV_TOKEN_FILE", "DOWNLOAD_SLOTS", "PIXIV_IMAGE_HOSTS"):
        value = values[name]
        text = ",".join(value) if isinstance(value, list) else json.dumps(value) if isinstance(value, dict) else str(value)
        args += ["-s", f"{name}={text}"]
    return args


def build(root: Path, crawls: list[list[str]] = CRAWLS) -> Archive:
    """Crawl ``crawls`` from a fresh sandbox into an archive under ``root``."""
    archive = Archive(root / "archive")
    archive.root.mkdir(parents=True, exist_ok=True)
    sandbox = RunningSandbox()
    try:
        args = setting_args(crawl_values(sandbox, archive))
        for crawl in crawls:
            result = scrapy_command("crawl", *crawl, *args, "-s", "LOG_LEVEL=WARNING", cwd=root, timeout=300)
            assert result.returncode == 0, result.stderr[-3000:]
    finally:
        sandbox.stop()
    return archive
