"""The recommended spider: recommended works and the ranking works shown with them."""

from __future__ import annotations

from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.sandbox.world import ILLUST_BASE
from pixivcrawl.spiders.recommended import RecommendedSpider
from tests.crawl import Archive, RunningSandbox, crawl
from tests.spiders.conftest import NO_FILES, routes


@deferred_f_from_coro_f
async def test_recommended_manga_with_ranking_illusts(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    recommended = {ILLUST_BASE + i for offset in (0, 30) for i in world.recommended_idx(1, False, True, offset, 30)}
    ranking = set(world.ranking("day")[:3])

    await crawl(RecommendedSpider, sandbox, archive, settings=NO_FILES, content_type="manga", pages="2")

    stored = {i for (i,) in archive.query("SELECT id FROM illusts")}
    assert stored == recommended | ranking
    assert {t for (t,) in archive.query(f"SELECT DISTINCT type FROM illusts WHERE id IN ({','.join(map(str, recommended))})")} == {"manga"}
    assert routes(sandbox)["/v1/illust/recommended"] == 2
