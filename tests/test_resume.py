"""Stopping and resuming: SIGTERM and SIGKILL with JOBDIR, crawl_runs statuses, exit statuses."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.jobdir import RUNNING_MARKER, reset_if_killed
from pixivcrawl.spiders.ranking import RankingSpider
from tests.crawl import Archive, RunningSandbox, crawl, file_hashes, reference_archive, snapshot

DATE = "2026-10-30"
# Slow enough to stop part-way: 12 ranking pages of 5, one API call at a time.
WORLD = {"ranking_size": 60, "page_size": 5, "latency_api": 120, "latency_image": 20}
RANKING_PAGES = 12


def crawl_process(sandbox: RunningSandbox, root: Path, *extra: str) -> subprocess.Popen[str]:
    """``scrapy crawl ranking`` as cron would run it, writing under ``root``."""
    env = {k: v for k, v in os.environ.items() if k != "PIXIV_REFRESH_TOKEN"}
    env.update(SCRAPY_SETTINGS_MODULE="pixivcrawl.settings", PIXIV_REFRESH_TOKEN=sandbox.config.refresh_token)
    settings = {
        "PIXIV_API_URL": sandbox.server.api_url,
        "PIXIV_AUTH_URL": sandbox.server.auth_url,
        "PIXIV_IMAGE_HOSTS": sandbox.server.image_host,
        "PIXIV_DATABASE_URL": f"sqlite:///{root / 'pixiv.db'}",
        "FILES_STORE": str(root / "files"),
        "PIXIV_TOKEN_FILE": str(root / "no-token.json"),
        "DOWNLOAD_SLOTS": '{"pixiv-api": {"concurrency": 1, "delay": 0}, "pixiv-images": {"concurrency": 4, "delay": 0}}',
        "PIXIV_DB_FLUSH_INTERVAL": "0.2",
        "JOBDIR": str(root / "job"),
    }
    args = [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "scrapy", "crawl", "ranking", "-a", f"date={DATE}", *args, *extra],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for_pages(sandbox: RunningSandbox, pages: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while sandbox.stats()["by_route"].get("/v1/illust/ranking", 0) < pages:
        assert time.monotonic() < deadline, "the crawl made no progress"
        time.sleep(0.05)


def runs(root: Path) -> list[str]:
    with sqlite3.connect(root / "pixiv.db") as db:
        return [r[0] for r in db.execute("SELECT status FROM crawl_runs ORDER BY id")]




def assert_same_archive(root: Path, rows: dict[str, Any], files: dict[str, str]) -> None:
    got = snapshot(root / "pixiv.db")
    for table in rows:
        assert got[table] == rows[table], table
    assert file_hashes(root / "files") == files
    # Atomic writes: nothing half-written or temporary is left in the files store.
    assert not [p for p in (root / "files").rglob("*") if p.is_file() and (p.name.startswith(".") or "tmp" in p.name)]


# --- the dupefilter's kill detection ---------------------------------------------------------------


def test_a_jobdir_left_by_a_killed_crawl_is_reset_and_a_clean_one_is_kept(tmp_path) -> None:
    jobdir = tmp_path / "job"
    assert reset_if_killed(jobdir) is False  # a fresh JOBDIR
    assert (jobdir / RUNNING_MARKER).exists()
    (jobdir / "requests.seen").write_bytes(b"fingerprints")
    (jobdir / "requests.queue").mkdir()
    (jobdir / "requests.queue" / "active.json").write_text("[]")
    # The marker is still there: the crawl never closed.
    assert reset_if_killed(jobdir) is True
    assert not (jobdir / "requests.seen").exists() and not (jobdir / "requests.queue").exists()
    (jobdir / "requests.seen").write_bytes(b"fingerprints")
    (jobdir / RUNNING_MARKER).unlink()  # what a clean close does
    assert reset_if_killed(jobdir) is False
    assert (jobdir / "requests.seen").read_bytes() == b"fingerprints"


@deferred_f_from_coro_f
async def test_a_finished_crawl_leaves_no_marker_and_no_request_state(sandbox: RunningSandbox, tmp_path) -> None:
    archive = Archive(tmp_path / "archive")
    jobdir = tmp_path / "job"
    crawler = await crawl(RankingSpider, sandbox, archive, settings={"JOBDIR": str(jobdir),
                              "PIXIV_DOWNLOAD_FILES": False}, date=DATE, pages="1")
    assert crawler.stats.get_value("finish_reason") == "finished"
    # A finished crawl's seen list would drop the next run's start requests (the JOBDIR trap).
    assert jobdir.is_dir() and not (jobdir / "requests.seen").exists() and not (jobdir / "requests.queue").exists()
    assert not (jobdir / RUNNING_MARKER).exists()
    assert crawler.stats.get_value("pixivcrawl/jobdir/restarted") is None


# --- stopping a real crawl ------------------------------------------------------------------------


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_sigterm_interrupts_cleanly_and_the_resume_fetches_each_page_once(make_sandbox, tmp_path_factory,
                                                                              tmp_path) -> None:
    rows, files = await reference_archive(WORLD, DATE, tmp_path_factory)
    sandbox = make_sandbox(**WORLD)
    first = crawl_process(sandbox, tmp_path)
    wait_for_pages(sandbox, 3)
    first.send_signal(signal.SIGTERM)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 1
    assert err.strip().splitlines()[-1].endswith(
        f"Crawl interrupted: run the same command again (JOBDIR {tmp_path / 'job'}) to resume where it stopped")
    assert runs(tmp_path) == ["interrupted"]
    assert sandbox.stats()["by_route"]["/v1/illust/ranking"] < RANKING_PAGES

    second = crawl_process(sandbox, tmp_path)
    _, err = second.communicate(timeout=90)
    assert second.returncode == 0, err[-2000:]
    assert "Resuming crawl" in err
    assert runs(tmp_path) == ["interrupted", "finished"]
    # Nothing fetched twice: pages in flight at the SIGTERM were finished, the rest came from JOBDIR.
    assert sandbox.stats()["by_route"]["/v1/illust/ranking"] == RANKING_PAGES
    assert_same_archive(tmp_path, rows, files)


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_a_sigkilled_crawl_resumed_with_its_jobdir_loses_nothing(make_sandbox, tmp_path_factory,
                                                                     tmp_path) -> None:
    rows, files = await reference_archive(WORLD, DATE, tmp_path_factory)
    sandbox = make_sandbox(**WORLD)
    first = crawl_process(sandbox, tmp_path)
    wait_for_pages(sandbox, 4)
    time.sleep(0.3)  # let some rows and files land, so the resume has a partial archive to finish
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    assert runs(tmp_path)[-1] == "running"  # nobody could record the end of a SIGKILLed crawl

    second = crawl_process(sandbox, tmp_path)
    _, err = second.communicate(timeout=90)
    assert second.returncode == 0, err[-2000:]
    assert "was killed before it could save its queue; starting this crawl over" in err
    assert "Crawl run 1 was left running by a process that is gone: marked lost" in err
    assert runs(tmp_path) == ["lost", "finished"]
    assert_same_archive(tmp_path, rows, files)


# --- exit statuses --------------------------------------------------------------------------------


@pytest.mark.slow
def test_an_unreachable_database_exits_non_zero_and_says_why_last(sandbox: RunningSandbox, tmp_path) -> None:
    process = crawl_process(sandbox, tmp_path, "-s", "PIXIV_DATABASE_URL=postgresql+psycopg://nobody@127.0.0.1:9/none")
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "Crawl failed" in err.strip().splitlines()[-1]
    assert sandbox.stats()["by_route"].get("/v1/illust/ranking", 0) == 0


@pytest.mark.slow
def test_a_finished_crawl_exits_zero(make_sandbox, tmp_path) -> None:
    sandbox = make_sandbox(ranking_size=10)
    process = crawl_process(sandbox, tmp_path, "-s", "PIXIV_DOWNLOAD_FILES=false")
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-2000:]
    assert "Spider closed (finished)" in err.strip().splitlines()[-1]
    assert runs(tmp_path) == ["finished"]
