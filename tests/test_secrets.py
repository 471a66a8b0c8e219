"""Tokens stay secret: none in DEBUG logs, the database, feeds, stats or JOBDIR, whatever goes wrong."""

from __future__ import annotations

import json
import logging
import os
import secrets
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import TextResponse
from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.auth import write_token_file
from pixivcrawl.spiders.ranking import RankingSpider
from tests.crawl import Archive, RunningSandbox, crawl

DATE = "2026-10-30"


def fast_settings(sandbox: RunningSandbox, root: Path) -> list[str]:
    settings = {
        "PIXIV_API_URL": sandbox.server.api_url,
        "PIXIV_AUTH_URL": sandbox.server.auth_url,
        "PIXIV_IMAGE_HOSTS": sandbox.server.image_host,
        "PIXIV_DATABASE_URL": f"sqlite:///{root / 'pixiv.db'}",
        "FILES_STORE": str(root / "files"),
        "PIXIV_TOKEN_FILE": str(root / "no-token.json"),
        "DOWNLOAD_SLOTS": json.dumps({"pixiv-api": {"concurrency": 4, "delay": 0},
                                      "pixiv-images": {"concurrency": 8, "delay": 0}}),
        "PIXIV_RETRY_BACKOFF": "0.01",
        "PIXIV_RATE_LIMIT_BACKOFF": "0.05",
        "PIXIV_RATE_LIMIT_BACKOFF_MAX": "0.2",
        "PIXIV_DB_FLUSH_INTERVAL": "0.5",
    }
    return [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]


def every_file_under(root: Path) -> dict[str, bytes]:
    """The bytes of every file under ``root``, with SQLite databases as their SQL dump."""
    out = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".db":
            with sqlite3.connect(path) as db:
                out[str(path)] = "\n".join(db.iterdump()).encode()
        out[f"{path} (bytes)"] = path.read_bytes()
    return out


@pytest.mark.slow
def test_no_token_in_logs_database_feed_stats_or_jobdir(make_sandbox, tmp_path) -> None:
    refresh_token = f"rt-{secrets.token_hex(16)}"
    # Short-lived tokens and OAuth/5xx/truncation faults: refreshes, rejections and retries all get logged.
    sandbox = make_sandbox(refresh_token=refresh_token, ranking_size=40, page_size=5, token_lifetime=1,
                           latency_api=80, fault_token_expiry=0.4, fault_5xx=0.15, fault_truncate=0.1,
                           fault_rate_limit=0.1, fault_seed=3)
    root = tmp_path / "run"
    root.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PIXIV_REFRESH_TOKEN"}
    env.update(SCRAPY_SETTINGS_MODULE="pixivcrawl.settings", PIXIV_REFRESH_TOKEN=refresh_token)
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "ranking", "-a", f"date={DATE}", "-O", str(root / "out.jsonl"),
         "-s", "LOG_LEVEL=DEBUG", "-s", f"LOG_FILE={root / 'crawl.log'}", "-s", "LOGSTATS_INTERVAL=0.5",
         "-s", f"JOBDIR={root / 'job'}", *fast_settings(sandbox, root)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    issued = list(sandbox.server.state.oauth.access_tokens)
    assert len(issued) >= 2  # expiry and rejections made it refresh
    served = sandbox.stats()
    assert served["faults"].get("5xx") and served["faults"].get("truncate")

    files = every_file_under(root)
    assert any(name.endswith("crawl.log (bytes)") for name in files)
    assert any("job" in name for name in files)
    log = (root / "crawl.log").read_text()
    assert "Crawled (200)" in log and "Retrying" in log and "Scrapy stats:" in log
    assert "Access token rejected" in log and "<POST http" in log
    assert (root / "out.jsonl").read_text().count("\n") > 0
    haystacks = {**files, "stdout": result.stdout.encode(), "stderr": result.stderr.encode()}
    for token in [refresh_token, *issued]:
        leaks = [name for name, data in haystacks.items() if token.encode() in data]
        assert leaks == [], f"a token leaked into {leaks}"


@deferred_f_from_coro_f
async def test_no_token_in_stats_or_crawl_runs_in_process(make_sandbox, tmp_path, caplog) -> None:
    refresh_token = f"rt-{secrets.token_hex(16)}"
    sandbox = make_sandbox(refresh_token=refresh_token, ranking_size=10, token_lifetime=1, latency_api=30,
                           fault_token_expiry=0.3, fault_seed=5)
    archive = Archive(tmp_path / "archive")
    with caplog.at_level(logging.DEBUG):
        crawler = await crawl(RankingSpider, sandbox, archive, settings={"PIXIV_DOWNLOAD_FILES": False},
                                  date=DATE)
    assert crawler.stats.get_value("finish_reason") == "finished"
    text = caplog.text + repr(crawler.stats.get_stats()) + "\n".join(sqlite3.connect(archive.db_path).iterdump())
    for token in [refresh_token, *sandbox.server.state.oauth.access_tokens]:
        assert token not in text


def test_requests_leave_the_auth_middleware_without_their_token() -> None:
    # Whatever happens to a request after a download (retry, re-queue, JOBDIR), it carries no token.
    from scrapy.utils.test import get_crawler

    from pixivcrawl.middlewares import PixivAuthMiddleware

    crawler = get_crawler(RankingSpider, {"PIXIV_API_URL": "http://api.test", "PIXIV_REFRESH_TOKEN": "r"})
    mw = PixivAuthMiddleware.from_crawler(crawler)
    request = Request("http://api.test/v1/illust/ranking", headers={"Authorization": "Bearer SECRET"},
                      meta={"_pixiv_token": "SECRET"})
    oauth_error = {"error": {"message": "Error occurred at the OAuth process. Error Message: invalid_grant"}}
    retry = mw.process_response(request, TextResponse(request.url, status=400, body=json.dumps(oauth_error).encode()))
    assert isinstance(retry, Request)
    for r in (request, retry):
        assert b"Authorization" not in r.headers and "SECRET" not in repr(r.meta)
    failed = Request("http://api.test/v1/x", headers={"Authorization": "Bearer SECRET"}, meta={"_pixiv_token": "SECRET"})
    mw.process_exception(failed, TimeoutError())
    assert b"Authorization" not in failed.headers and "_pixiv_token" not in failed.meta


def test_the_token_file_is_private_even_under_a_permissive_umask(tmp_path) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "dir" / "token.json"
        write_token_file(path, {"refresh_token": "x"})
        write_token_file(path, {"refresh_token": "y"})  # replaced, still private
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text()) == {"refresh_token": "y"}
    assert [p.name for p in path.parent.iterdir()] == ["token.json"]
