"""The series spider: series detail, its works in order, positions, and one webview per readable novel."""

from __future__ import annotations

import sqlite3

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.exceptions import ArgumentError
from pixivcrawl.spiders.series import SeriesSpider
from tests.crawl import Archive, RunningSandbox, crawl
from tests.spiders.conftest import NO_FILES, pages, routes

PAGE_SIZE = 4


def novel_series(world) -> tuple[int, list]:
    """A novel series spanning pages, with a hidden and a deleted member."""
    for idx in range(200_000):
        series_id = world.novel(idx).series_id
        if not series_id:
            continue
        members = [world.novel(i) for i in world.series_members(series_id, True)]
        live = [w for w in members if not w.deleted]
        if len(live) > 2 * PAGE_SIZE and any(w.hidden for w in live) and len(live) < len(members):
            return series_id, live
    raise AssertionError("no such series in the world")


def illust_series(world) -> tuple[int, list]:
    for idx in range(200_000):
        series_id = world.illust(idx).series_id
        if series_id:
            live = [w for w in map(world.illust, world.series_members(series_id, False)) if not w.deleted]
            if len(live) > PAGE_SIZE:
                return series_id, live
    raise AssertionError("no such series in the world")


@deferred_f_from_coro_f
async def test_novel_series_stores_detail_works_in_order_and_their_text(make_sandbox, archive: Archive) -> None:
    sandbox: RunningSandbox = make_sandbox(page_size=PAGE_SIZE)
    world = sandbox.server.world
    series_id, live = novel_series(world)
    crawler = await crawl(SeriesSpider, sandbox, archive, settings=NO_FILES, series_id=str(series_id), type="novel")
    assert crawler.stats.get_value("finish_reason") == "finished"

    row = archive.query(
        "SELECT title, user_id, work_count, is_concluded, display_text, ai_type, watchlist_added FROM series "
        "WHERE kind = 'novel' AND id = ?", series_id,
    )
    assert row == [(world.series_title(series_id, True), live[0].user_id, len(live), 1, f"全{len(live)}話", live[0].ai_type, 0)]
    order = archive.query(
        "SELECT position, work_id FROM series_works WHERE kind = 'novel' AND series_id = ? ORDER BY position", series_id
    )
    assert order == [(n, w.id) for n, w in enumerate(live, start=1)]
    statuses = dict(archive.query("SELECT id, status FROM novels"))
    assert statuses == {w.id: "hidden" if w.hidden else "available" for w in live}
    readable = [w for w in live if not w.hidden]
    texts = dict(archive.query("SELECT novel_id, text FROM novel_texts"))
    assert texts == {w.id: world.novel_text(w) for w in readable}

    served = routes(sandbox)
    assert served["/v2/novel/series"] == pages(len(live), PAGE_SIZE)
    assert served["/webview/v2/novel"] == len(readable)  # exactly one per readable novel
    assert served.get("/v2/novel/detail", 0) == 0  # the listing has the whole novel object


@deferred_f_from_coro_f
async def test_illust_series_positions_count_from_the_first_work(make_sandbox, archive: Archive) -> None:
    sandbox: RunningSandbox = make_sandbox(page_size=PAGE_SIZE)
    world = sandbox.server.world
    series_id, live = illust_series(world)
    await crawl(SeriesSpider, sandbox, archive, settings=NO_FILES, series_id=str(series_id), type="illust")

    row = archive.query(
        "SELECT title, user_id, work_count, width, height, watchlist_added FROM series WHERE kind = 'illust' AND id = ?", series_id
    )
    assert row == [(world.series_title(series_id, False), live[0].user_id, len(live), 1000, 1414, int(series_id % 5 == 0))]
    order = archive.query(
        "SELECT position, work_id FROM series_works WHERE kind = 'illust' AND series_id = ? ORDER BY position", series_id
    )
    # Pixiv lists the series newest first; position 1 is still the first work.
    assert order == [(n, w.id) for n, w in enumerate(live, start=1)]
    assert {i for (i,) in archive.query("SELECT id FROM illusts")} == {w.id for w in live}
    assert archive.query("SELECT DISTINCT series_id FROM illusts") == [(series_id,)]
    served = routes(sandbox)
    assert served["/v1/illust/series"] == pages(len(live), PAGE_SIZE)
    assert served.get("/v1/illust/detail", 0) == 0

    # A second crawl moves nothing.
    before = archive.counts("series", "series_works", "illusts")
    await crawl(SeriesSpider, sandbox, archive, settings=NO_FILES, series_id=str(series_id), type="illust")
    assert archive.counts("series", "series_works", "illusts") == before


@deferred_f_from_coro_f
async def test_unknown_series_is_logged_and_writes_nothing(sandbox: RunningSandbox, archive: Archive, caplog) -> None:
    crawler = await crawl(SeriesSpider, sandbox, archive, settings=NO_FILES, series_id="999999999", type="novel")
    assert crawler.stats.get_value("finish_reason") == "finished"
    assert "novel series 999999999: not found" in caplog.text
    assert archive.count("series") == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"series_id": "1"}, "spider series: missing type"),
        ({"series_id": "1", "type": "manga"}, "spider series: bad type='manga'; expected one of: illust, novel"),
        ({"type": "novel"}, "spider series: missing series_id"),
        ({"series_id": "x", "type": "novel"}, "spider series: bad series_id='x'"),
    ],
)
def test_bad_arguments_stop_before_any_request(kwargs, message) -> None:
    with pytest.raises(ArgumentError, match=message):
        SeriesSpider.parse_arguments(kwargs)


@deferred_f_from_coro_f
async def test_an_incremental_series_crawl_records_every_place_even_when_its_works_are_archived(
    make_sandbox, archive: Archive
) -> None:
    # A series' works are often archived by another crawl (the artist's) before their places in
    # the series are: an incremental crawl still reads the whole series, illust and novel alike.
    sandbox: RunningSandbox = make_sandbox(page_size=PAGE_SIZE)
    world = sandbox.server.world
    settings = {**NO_FILES, "PIXIV_INCREMENTAL": True}
    illust_id, illusts = illust_series(world)
    novel_id, novels = novel_series(world)
    for series_id, kind in ((illust_id, "illust"), (novel_id, "novel")):
        await crawl(SeriesSpider, sandbox, archive, settings=settings, series_id=str(series_id), type=kind)
    before = archive.counts("series", "series_works", "illusts", "novels")
    with sqlite3.connect(archive.db_path) as db:
        db.execute("DELETE FROM series_works")

    sandbox.reset_stats()
    for series_id, kind in ((illust_id, "illust"), (novel_id, "novel")):
        await crawl(SeriesSpider, sandbox, archive, settings=settings, series_id=str(series_id), type=kind)
    served = routes(sandbox)
    assert served["/v1/illust/series"] == pages(len(illusts), PAGE_SIZE)
    assert served["/v2/novel/series"] == pages(len(novels), PAGE_SIZE)
    assert archive.counts("series", "series_works", "illusts", "novels") == before
