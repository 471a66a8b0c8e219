"""The ranking spider end to end against the sandbox: rows, files, tokens, exit statuses."""

from __future__ import annotations

import sqlite3

import pytest
from PIL import Image
from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.spiders.ranking import RankingSpider
from tests.crawl import Archive, RunningSandbox, crawl, scrapy_command

DATE = "2026-10-30"
TABLES = ("rankings", "illusts", "illust_pages", "users", "tags", "illust_tags")


@deferred_f_from_coro_f
async def test_ranking_archives_rows_and_files_and_a_rerun_changes_nothing(make_sandbox, archive: Archive) -> None:
    sandbox: RunningSandbox = make_sandbox(ranking_size=45)
    crawler = await crawl(RankingSpider, sandbox, archive, mode="day", date=DATE)
    assert crawler.stats.get_value("finish_reason") == "finished"

    ranks = archive.query("SELECT rank, work_id FROM rankings WHERE kind='illust' AND mode='day' AND date=? ORDER BY rank", DATE)
    assert [r for r, _ in ranks] == list(range(1, 46))
    served = sandbox.server.world.ranking("day", DATE)[:45]
    assert [i for _, i in ranks] == served
    assert archive.count("illusts") == 45
    assert archive.count("users") >= 1
    assert archive.count("tags") >= 1

    # Every page of every available work is on disk, decodable, and recorded.
    pages = archive.query(
        "SELECT p.local_path, p.sha256, p.size FROM illust_pages p JOIN illusts i ON i.id = p.illust_id "
        "WHERE i.status = 'available'"
    )
    assert pages
    for local_path, sha256, size in pages:
        assert local_path and sha256
        path = archive.files / local_path
        assert path.stat().st_size == size
        with Image.open(path) as image:
            image.load()
    # ... and every file on disk is one the database points at (pages, ugoira, profile images).
    recorded = {row[0] for row in archive.query(
        "SELECT local_path FROM illust_pages UNION SELECT zip_local_path FROM ugoira "
        "UNION SELECT animation_local_path FROM ugoira UNION SELECT profile_image_local_path FROM users"
    ) if row[0]}
    assert {p.relative_to(archive.files).as_posix() for p in archive.stored_files()} == recorded
    # Hidden works are rows with their status, and no placeholder is stored as the work.
    hidden = archive.query("SELECT count(*) FROM illusts WHERE status = 'hidden'")[0][0]
    assert hidden >= 1
    assert sandbox.stats()["placeholder_fetches"] == 0

    before = archive.counts(*TABLES)
    sandbox.reset_stats()
    await crawl(RankingSpider, sandbox, archive, mode="day", date=DATE)
    assert archive.counts(*TABLES) == before
    assert sandbox.stats()["image_requests"] == 0


@deferred_f_from_coro_f
async def test_token_expiring_mid_crawl_is_refreshed_and_the_crawl_completes(make_sandbox, archive: Archive) -> None:
    sandbox = make_sandbox(ranking_size=90, page_size=10, token_lifetime=1, latency_api=150)
    crawler = await crawl(
        RankingSpider, sandbox, archive, settings={"PIXIV_DOWNLOAD_FILES": False,
        "DOWNLOAD_SLOTS": {"pixiv-api": {"concurrency": 1, "delay": 0}}}, date=DATE
    )
    assert crawler.stats.get_value("finish_reason") == "finished"
    assert archive.count("rankings") == 90
    assert crawler.stats.get_value("pixivcrawl/auth/refreshes") >= 2
    assert sandbox.stats()["token_refreshes"] >= 2


@deferred_f_from_coro_f
async def test_images_never_carry_the_authorization_header(sandbox: RunningSandbox, archive: Archive) -> None:
    await crawl(RankingSpider, sandbox, archive, date=DATE, pages="1")
    stats = sandbox.stats()
    assert stats["image_requests"] > 0
    assert stats["image_auth_headers"] == 0
    assert stats["image_403"] == 0


@pytest.mark.slow
def test_bad_refresh_token_stops_the_crawl_with_a_message_and_non_zero_exit(sandbox: RunningSandbox, tmp_path) -> None:
    result = scrapy_command(
        "crawl", "ranking",
        "-s", f"PIXIV_API_URL={sandbox.server.api_url}",
        "-s", f"PIXIV_AUTH_URL={sandbox.server.auth_url}",
        "-s", f"PIXIV_IMAGE_HOSTS={sandbox.server.image_host}",
        "-s", "PIXIV_REFRESH_TOKEN=not-a-valid-token",
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "Login failed: Pixiv refused the refresh token (Invalid refresh token)" in result.stderr
    assert "Crawl failed: pixiv_auth_failed" in result.stderr.strip().splitlines()[-1]
    assert sandbox.stats()["by_route"].get("/v1/illust/ranking", 0) == 0
    assert sandbox.stats()["token_errors"] == 1


@pytest.mark.slow
def test_bad_mode_exits_non_zero_with_one_line_and_sends_nothing(sandbox: RunningSandbox, tmp_path) -> None:
    result = scrapy_command(
        "crawl", "ranking", "-a", "mode=bogus",
        "-s", f"PIXIV_API_URL={sandbox.server.api_url}",
        "-s", f"PIXIV_AUTH_URL={sandbox.server.auth_url}",
        "-s", "PIXIV_REFRESH_TOKEN=whatever",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("pixivcrawl: spider ranking: bad mode='bogus'; expected one of: day, week, month")
    assert sandbox.stats()["requests_total"] == 0
    assert not (tmp_path / "data").exists()


@pytest.mark.slow
def test_readme_first_command_twice_leaves_the_same_archive_and_downloads_nothing(tmp_path) -> None:
    first = scrapy_command("crawl", "ranking", "-s", "PIXIV_SANDBOX=true", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    # The demo writes its own archive, never the real one's defaults.
    archive = Archive(tmp_path / "data", db_name="sandbox.db", files_name="sandbox-files")
    before = archive.counts(*TABLES)
    assert before["rankings"] == archive.query("SELECT max(rank) FROM rankings")[0][0] > 0
    assert archive.query("SELECT count(*) FROM illust_pages WHERE local_path IS NULL AND illust_id IN "
                         "(SELECT id FROM illusts WHERE status = 'available')")[0][0] == 0
    files = archive.stored_files()
    assert files

    second = scrapy_command("crawl", "ranking", "-s", "PIXIV_SANDBOX=true", cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-2000:]
    assert archive.counts(*TABLES) == before
    assert archive.stored_files() == files
    assert "Files: 0 downloaded (0 B)" in second.stderr
    assert "partial downloads" not in second.stderr
    assert archive.query("SELECT count(*), min(status) FROM crawl_runs") == [(2, "finished")]
    assert not (tmp_path / "data" / "pixiv.db").exists()
    assert not (tmp_path / "data" / "files").exists()


@deferred_f_from_coro_f
async def test_novel_ranking_rows_novels_texts_and_covers(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    crawler = await crawl(RankingSpider, sandbox, archive, type="novel", mode="week_rookie", date=DATE, pages="1")
    assert crawler.stats.get_value("finish_reason") == "finished"
    served = world.ranking("week_rookie", DATE, novel=True)[:30]
    assert served
    ranks = archive.query("SELECT rank, work_id FROM rankings WHERE kind = 'novel' AND mode = 'week_rookie' AND date = ? ORDER BY rank", DATE)
    assert ranks == list(enumerate(served, start=1))
    assert archive.count("rankings") == len(served)  # no illust rows
    assert {i for (i,) in archive.query("SELECT id FROM novels")} == set(served)
    readable = {i for i in served if not (world.novel_by_id(i).hidden or world.novel_by_id(i).deleted)}
    assert {i for (i,) in archive.query("SELECT novel_id FROM novel_texts")} == readable
    covers = archive.query("SELECT cover_local_path, cover_sha256 FROM novels WHERE cover_url IS NOT NULL")
    assert covers
    for local_path, sha256 in covers:
        assert (archive.files / local_path).is_file() and sha256


@deferred_f_from_coro_f
async def test_an_incremental_ranking_records_every_rank_even_when_its_works_are_archived(
    make_sandbox, archive: Archive
) -> None:
    # The works of a ranking are often archived by other crawls (another mode, an artist) before
    # its ranks are: an incremental crawl must still read the whole ranking.
    sandbox: RunningSandbox = make_sandbox(ranking_size=90, page_size=30)
    settings = {"PIXIV_DOWNLOAD_FILES": False, "PIXIV_INCREMENTAL": True}
    await crawl(RankingSpider, sandbox, archive, settings=settings, mode="day", date=DATE)
    before = archive.counts(*TABLES)
    with sqlite3.connect(archive.db_path) as db:
        db.execute("DELETE FROM rankings")

    sandbox.reset_stats()
    await crawl(RankingSpider, sandbox, archive, settings=settings, mode="day", date=DATE)
    assert sandbox.stats()["by_route"]["/v1/illust/ranking"] == 3
    assert archive.counts(*TABLES) == before
