"""The related spider: every page Pixiv lists for one illust, following the viewed[] next_url verbatim."""

from __future__ import annotations

from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.sandbox.world import ILLUST_BASE
from pixivcrawl.spiders.related import RelatedSpider
from tests.crawl import Archive, RunningSandbox, crawl
from tests.spiders.conftest import NO_FILES, routes

SEED = 120999000


@deferred_f_from_coro_f
async def test_related_follows_every_page(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    seed = world.illust_by_id(SEED)
    # The sandbox lists five pages, each continuing after the ones viewed so far.
    expected = {ILLUST_BASE + i for page in range(5) for i in world.related_idx(seed.idx, False, 30, page * 30)}

    await crawl(RelatedSpider, sandbox, archive, settings=NO_FILES, illust_id=str(SEED))

    assert {i for (i,) in archive.query("SELECT id FROM illusts")} == expected
    assert routes(sandbox)["/v2/illust/related"] == 5
    assert routes(sandbox).get("/v1/illust/detail", 0) == 0
