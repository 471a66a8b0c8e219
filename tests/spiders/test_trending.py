"""The trending spider: today's trending illust and novel tags, with positions, translations and works."""

from __future__ import annotations

import datetime as dt

from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.spiders.base import JST
from pixivcrawl.spiders.trending import TrendingSpider
from tests.crawl import Archive, RunningSandbox, crawl
from tests.spiders.conftest import NO_FILES, routes


@deferred_f_from_coro_f
async def test_trending_tags_of_both_kinds(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    await crawl(TrendingSpider, sandbox, archive, settings=NO_FILES)

    today = dt.datetime.now(JST).date().isoformat()
    for kind in ("illust", "novel"):
        rows = archive.query("SELECT position, tag, work_id, date FROM trending_tags WHERE kind = ? ORDER BY position", kind)
        assert rows, kind
        assert [p for p, *_ in rows] == list(range(1, len(rows) + 1))
        assert {d for *_, d in rows} == {today}
        works = {w for _, _, w, _ in rows}
        # Both lists show an illust with each tag (reference §5.4): the novel list's are kept too.
        assert works <= {i for (i,) in archive.query("SELECT id FROM illusts")}
        for _, tag, work_id, _ in rows:
            assert tag in {t["name"] for t in world.tags_json(world.illust_by_id(work_id), "en", False)}
    translated = archive.query("SELECT translated_name FROM trending_tags WHERE tag = '猫' AND kind = 'illust'")
    assert translated == [("cat",)]
    assert routes(sandbox)["/v1/trending-tags/illust"] == 1
    assert routes(sandbox)["/v1/trending-tags/novel"] == 1
