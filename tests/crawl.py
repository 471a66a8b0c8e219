"""Helpers to run pixivcrawl's real spiders against a sandbox and read what they left."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import urllib.request
import zipfile
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
    db_name: str = "pixiv.db"
    files_name: str = "files"

    @property
    def db_path(self) -> Path:
        return self.root / self.db_name

    @property
    def files(self) -> Path:
        return self.root / self.files_name

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

    values = crawl_values(sandbox, archive, **(settings or {}))
    spidercls = SpiderLoader.from_settings(Settings(values)).load(spider) if isinstance(spider, str) else spider
    crawler = get_crawler(spidercls, values)
    await crawler.crawl_async(**args)
    return crawler


def cli_settings(sandbox: RunningSandbox, archive: Archive, **overrides: Any) -> list[str]:
    """``-s`` options pointing a ``scrapy crawl`` at ``sandbox`` and ``archive`` (the token comes from the environment)."""
    values = {**sandbox.settings, **archive.settings, "PIXIV_TOKEN_FILE": str(archive.root / "no-token.json"), **overrides}
    del values["PIXIV_REFRESH_TOKEN"]
    return [arg for name, value in values.items()
            for arg in ("-s", f"{name}={','.join(value) if isinstance(value, list) else value}")]


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


# --- comparing whole archives (fault and resume tests) -------------------------------------------

def crawl_values(sandbox: RunningSandbox, archive: Archive, **overrides: Any) -> dict[str, Any]:
    """Project settings pointed at ``sandbox`` and ``archive``, with tiny backoffs and a token file of its own."""
    values = project_settings(**sandbox.settings, **archive.settings)
    values.update(
        PIXIV_RETRY_BACKOFF=0.01,
        PIXIV_RETRY_BACKOFF_MAX=0.05,
        PIXIV_RATE_LIMIT_BACKOFF=0.05,
        PIXIV_RATE_LIMIT_BACKOFF_MAX=0.3,
        PIXIV_TOKEN_FILE=str(archive.root / "token.json"),
    )
    values.update(overrides)
    return values


#: Compared as zip entries, not bytes, so archives made by other zip writers compare equal too.
UNSTABLE_COLUMNS = {"zip_sha256"}


def snapshot(db_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted, without the runs' own bookkeeping (crawl_runs, work_events, *_at times)."""
    with sqlite3.connect(db_path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        out = {}
        for table in tables:
            # FTS shadow tables depend on insertion order, not on content.
            if table in {"crawl_runs", "work_events", "alembic_version"} or table.startswith("sqlite_") or "_fts" in table:
                continue
            columns = [r[1] for r in db.execute(f"PRAGMA table_info('{table}')")
                       if not r[1].endswith("_at") and r[1] not in UNSTABLE_COLUMNS]
            if not columns:
                continue
            names = ", ".join(f'"{c}"' for c in columns)
            rows = db.execute(f'SELECT {names} FROM "{table}"').fetchall()  # noqa: S608
            out[table] = sorted((tuple(_unported(v) for v in row) for row in rows), key=repr)
    return out


def _unported(value: Any) -> Any:
    # Each sandbox listens on its own ports, which appear in the stored URLs.
    return re.sub(r"127\.0\.0\.1:\d+", "sandbox", value) if isinstance(value, str) else value


def file_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): _content_hash(p) for p in sorted(root.rglob("*")) if p.is_file()}


def _content_hash(path: Path) -> str:
    if path.suffix != ".zip":
        return hashlib.sha256(path.read_bytes()).hexdigest()
    with zipfile.ZipFile(path) as z:  # entries, not bytes: see UNSTABLE_COLUMNS
        return repr(sorted((info.filename, info.CRC, info.file_size) for info in z.infolist()))


_references: dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, str]]] = {}


async def reference_archive(world: dict[str, Any], date: str, tmp_path_factory: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Rows and file hashes of a fault-free ``ranking`` crawl of ``world`` (made once per session)."""
    from pixivcrawl.spiders.ranking import RankingSpider  # noqa: PLC0415

    key = (*sorted(world.items()), date)
    if key not in _references:
        archive = Archive(tmp_path_factory.mktemp("reference"))
        sandbox = RunningSandbox(**world)
        try:
            crawler = await crawl(RankingSpider, sandbox, archive, date=date)
        finally:
            sandbox.stop()
        assert crawler.stats.get_value("finish_reason") == "finished"
        _references[key] = snapshot(archive.db_path), file_hashes(archive.files)
        assert _references[key][0]["illusts"] and _references[key][1]
    return _references[key]
