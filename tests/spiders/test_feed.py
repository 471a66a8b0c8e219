"""The feed spider: the newest works of followed users, paged by offset, incremental stop."""

from __future__ import annotations

from itertools import islice

from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.spiders.feed import FeedSpider
from tests.crawl import Archive, RunningSandbox, crawl
from tests.spiders.conftest import NO_FILES, routes


@deferred_f_from_coro_f
async def test_feed_archives_the_listed_works_and_stops_incrementally(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    expected = [w.id for w in islice(world.iter_follow_feed(1, "all", novel=False), 90)]
    settings = {**NO_FILES, "PIXIV_INCREMENTAL": True}

    await crawl(FeedSpider, sandbox, archive, settings=settings, restrict="all", pages="3")
    assert {i for (i,) in archive.query("SELECT id FROM illusts")} == set(expected)
    assert routes(sandbox)["/v2/illust/follow"] == 3

    sandbox.reset_stats()
    await crawl(FeedSpider, sandbox, archive, settings=settings, restrict="all", pages="3")
    assert routes(sandbox)["/v2/illust/follow"] == 1


@deferred_f_from_coro_f
async def test_novel_feed(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    expected = [w.id for w in islice(world.iter_follow_feed(1, "public", novel=True), 30)]
    await crawl(FeedSpider, sandbox, archive, settings=NO_FILES, type="novel", pages="1")
    assert {i for (i,) in archive.query("SELECT id FROM novels")} == set(expected)
    assert routes(sandbox)["/v1/novel/follow"] == 1
