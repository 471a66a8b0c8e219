"""Helpers to run pixivcrawl's real spiders against a sandbox and read what they left."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from pixivcrawl.sandbox.config import SandboxConfig
from pixivcrawl.sandbox.server import Sandbox

REPO = Path(__file__).resolve().parent.parent

#: Settings every test crawl uses on top of the project's: fast and quiet.
FAST = {
    "LOG_LEVEL": "INFO",
    "DOWNLOAD_SLOTS": {
        "pixiv-api": {"concurrency": 4, "delay": 0},
        "pixiv-images": {"concurrency": 8, "delay": 0},
    },
    "RETRY_TIMES": 5,
    "PIXIV_DB_FLUSH_INTERVAL": 0.5,
}


def project_settings(**overrides: Any) -> dict[str, Any]:
    settings = Settings()
    settings.setmodule("pixivcrawl.settings", priority="project")
    values = {k: v for k, v in settings.copy_to_dict().items() if k.isupper()}
    # Copied defaults would look user-set and make Scrapy warn about deprecated names.
    values.pop("RANDOMIZE_DOWNLOAD_DELAY", None)
    values.update(FAST)
    values.update(overrides)
    return values


@dataclass
class Archive:
    """Where a test crawl writes: a SQLite database and a files store."""

    root: Path

    @property
    def db_path(self) -> Path:
        return self.root / "pixiv.db"

    @property
    def files(self) -> Path:
        return self.root / "files"

    @property
    def settings(self) -> dict[str, Any]:
        return {"PIXIV_DATABASE_URL": f"sqlite:///{self.db_path}", "FILES_STORE": str(self.files)}

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db_path) as db:
            return db.execute(sql, params).fetchall()

    def count(self, table: str) -> int:
        return self.query(f"SELECT count(*) FROM {table}")[0][0]  # noqa: S608

    def counts(self, *tables: str) -> dict[str, int]:
        return {t: self.count(t) for t in tables}

    def stored_files(self) -> list[Path]:
        return sorted(p for p in self.files.rglob("*") if p.is_file())


class RunningSandbox:
    """A sandbox in a thread, with helpers for its counters."""

    def __init__(self, **knobs: Any) -> None:
        self.config = SandboxConfig(**knobs)
        self.server = Sandbox(self.config)
        self.server.start_in_thread()

    @property
    def settings(self) -> dict[str, Any]:
        return {
            "PIXIV_API_URL": self.server.api_url,
            "PIXIV_AUTH_URL": self.server.auth_url,
            "PIXIV_IMAGE_HOSTS": [self.server.image_host],
            "PIXIV_REFRESH_TOKEN": self.config.refresh_token,
        }

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.server.api_url}/__stats") as response:  # noqa: S310
            return json.load(response)

    def reset_stats(self) -> None:
        request = urllib.request.Request(f"{self.server.api_url}/__stats/reset", method="POST")
        with urllib.request.urlopen(request):  # noqa: S310
            pass

    def stop(self) -> None:
        self.server.stop()


async def crawl(spider: type | str, sandbox: RunningSandbox, archive: Archive, *, settings: dict[str, Any] | None = None, **args: Any) -> Any:
    """Run a spider in-process; returns the crawler (stats in ``crawler.stats``)."""
    from scrapy.spiderloader import SpiderLoader  # noqa: PLC0415

    values = project_settings(**sandbox.settings, **archive.settings, **(settings or {}))
    spidercls = SpiderLoader.from_settings(Settings(values)).load(spider) if isinstance(spider, str) else spider
    crawler = get_crawler(spidercls, values)
    await crawler.crawl_async(**args)
    return crawler


def scrapy_command(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``scrapy <args>`` as a user would, from ``cwd``, with the project's settings."""
    # The developer's own token must not leak into a test run.
    full_env = {k: v for k, v in os.environ.items() if k != "PIXIV_REFRESH_TOKEN"}
    full_env.update({"SCRAPY_SETTINGS_MODULE": "pixivcrawl.settings", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
