"""The new spider: newest works by the max_illust_id cursor; work_stats rows appear only when counts change."""

from __future__ import annotations

import urllib.request
from itertools import islice

from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.spiders.new import NewSpider
from tests.crawl import Archive, RunningSandbox, crawl
from tests.spiders.conftest import NO_FILES, routes


def advance_clock(sandbox: RunningSandbox, seconds: int) -> None:
    request = urllib.request.Request(f"{sandbox.server.api_url}/__clock?advance={seconds}", method="POST")
    with urllib.request.urlopen(request):
        pass


@deferred_f_from_coro_f
async def test_new_pages_by_cursor_and_resumes_below_an_id(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    expected = [w.id for w in islice(world.iter_new(False, "illust"), 60)]
    await crawl(NewSpider, sandbox, archive, settings=NO_FILES, pages="2")
    assert {i for (i,) in archive.query("SELECT id FROM illusts")} == set(expected)
    assert routes(sandbox)["/v1/illust/new"] == 2

    below = [w.id for w in islice(world.iter_new(False, "manga", max_id=expected[-1]), 30)]
    await crawl(NewSpider, sandbox, archive, settings=NO_FILES, pages="1", content_type="manga", max_illust_id=str(expected[-1]))
    assert set(below) <= {i for (i,) in archive.query("SELECT id FROM illusts WHERE type = 'manga'")}


@deferred_f_from_coro_f
async def test_work_stats_rows_only_when_counts_change_between_crawls(sandbox: RunningSandbox, archive: Archive) -> None:
    await crawl(NewSpider, sandbox, archive, settings=NO_FILES, pages="1")
    first = archive.count("work_stats")
    assert first == archive.count("illusts") == 30

    await crawl(NewSpider, sandbox, archive, settings=NO_FILES, pages="1")
    assert archive.count("work_stats") == first  # nothing changed, nothing added

    advance_clock(sandbox, 3 * 3600)  # the sandbox's counts grow every world hour
    await crawl(NewSpider, sandbox, archive, settings=NO_FILES, pages="1")
    assert archive.count("work_stats") == 2 * first
    grown = archive.query(
        "SELECT count(*) FROM (SELECT work_id, max(total_bookmarks) > min(total_bookmarks) AS grew "
        "FROM work_stats GROUP BY work_id) WHERE grew"
    )[0][0]
    assert grown == first
