"""After any spider's run, work_stats never holds two identical consecutive rows for a work."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.defer import deferred_f_from_coro_f

from tests.crawl import Archive, RunningSandbox, crawl
from tests.spiders.conftest import NO_FILES

#: Each spider (and spider argument that reads another source) with arguments the sandbox serves.
RUNS: dict[str, tuple[str, dict[str, str]]] = {
    "ranking": ("ranking", {"date": "2026-10-30"}),
    "ranking novel": ("ranking", {"type": "novel", "date": "2026-10-30"}),
    "search": ("search", {"word": "猫"}),
    "search novel": ("search", {"word": "猫", "type": "novel"}),
    "search user": ("search", {"word": "a", "type": "user"}),
    "user": ("user", {"user_id": "37"}),
    "bookmarks": ("bookmarks", {"restrict": "all"}),
    "following": ("following", {}),
    "feed": ("feed", {}),
    "illust": ("illust", {"illust_id": "120999000,120999004,120999022", "comments": "true", "series": "true"}),
    "novel": ("novel", {"novel_id": "20000002,20000007", "comments": "true"}),
    "series": ("series", {"series_id": "6", "type": "novel"}),
    "related": ("related", {"illust_id": "120999000"}),
    "recommended": ("recommended", {}),
    "recommended user": ("recommended", {"type": "user"}),
    "new": ("new", {}),
    "trending": ("trending", {}),
    "followers": ("followers", {"user_id": "7"}),
    "related_users": ("related_users", {"seed_user_id": "42"}),
    "mypixiv": ("mypixiv", {"user_id": "3"}),
    "bookmark_tags": ("bookmark_tags", {}),
}
#: Spiders that list no works.
NO_WORKS = {"bookmark_tags"}

REPEATED = """
SELECT count(*) FROM work_stats w JOIN work_stats p
  ON p.kind = w.kind AND p.work_id = w.work_id AND p.captured_at < w.captured_at
WHERE NOT EXISTS (SELECT 1 FROM work_stats q WHERE q.kind = w.kind AND q.work_id = w.work_id
                  AND q.captured_at > p.captured_at AND q.captured_at < w.captured_at)
  AND p.total_view IS w.total_view AND p.total_bookmarks IS w.total_bookmarks
  AND p.total_comments IS w.total_comments
"""


def test_every_spider_has_a_run() -> None:
    loader = SpiderLoader.from_settings(Settings({"SPIDER_MODULES": ["pixivcrawl.spiders"]}))
    assert set(loader.list()) == {spider for spider, _ in RUNS.values()}


@pytest.mark.slow
@pytest.mark.parametrize("run", list(RUNS))
@deferred_f_from_coro_f
async def test_no_two_identical_consecutive_stats_rows(sandbox: RunningSandbox, archive: Archive, run: str) -> None:
    spider, args = RUNS[run]
    settings: dict[str, Any] = {**NO_FILES, "PIXIV_DB_BATCH_SIZE": 500}
    # Twice: the second run must add rows only where counts changed (the sandbox's counts grow with its clock).
    for _ in range(2):
        crawler = await crawl(spider, sandbox, archive, settings=settings, pages="2", **args)
        assert crawler.stats.get_value("finish_reason") == "finished"
    if spider not in NO_WORKS:
        assert archive.count("work_stats") > 0
    assert archive.query(REPEATED) == [(0,)]
