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
    # The sandbox lists five pages, each continuing after the ones viewed so far; pages 2 to 5
    # start with two works of their viewed[] again, as real related pages do.
    starts = [0, 30, 58, 86, 114]
    served = [ILLUST_BASE + i for page, start in enumerate(starts) for i in world.related_idx(seed.idx, False, 30 if page == 0 else 28, start)]
    expected = set(served)

    crawler = await crawl(RelatedSpider, sandbox, archive, settings=NO_FILES, illust_id=str(SEED))

    assert {i for (i,) in archive.query("SELECT id FROM illusts")} == expected
    # Works were listed more than once (the repeats of viewed[], and the list's own).
    assert crawler.stats.get_value("pixivcrawl/validation/valid/illust") > len(expected) + 2 * 4
    # A work listed twice in one crawl has one stats row.
    assert archive.query("SELECT count(*) FROM work_stats") == archive.query("SELECT count(*) FROM illusts WHERE status = 'available'")
    assert routes(sandbox)["/v2/illust/related"] == 5
    assert routes(sandbox).get("/v1/illust/detail", 0) == 0
