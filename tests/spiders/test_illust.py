"""The illust spider: details by id, ugoira metadata, 404 as deleted, hidden works as rows, comments on request."""

from __future__ import annotations

from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.spiders.illust import IllustSpider
from tests.crawl import Archive, RunningSandbox, crawl
from tests.spiders.conftest import NO_FILES, routes

ILLUST, UGOIRA, DELETED, MANGA, HIDDEN = 120999000, 120999004, 120999009, 120999022, 120999058


@deferred_f_from_coro_f
async def test_details_statuses_ugoira_and_comments(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    assert world.illust_by_id(DELETED).deleted and world.illust_by_id(HIDDEN).hidden
    assert world.illust_by_id(UGOIRA).type == "ugoira"
    ids = [ILLUST, UGOIRA, DELETED, MANGA, HIDDEN]

    await crawl(IllustSpider, sandbox, archive, settings=NO_FILES, illust_id=",".join(map(str, ids)), comments="true")

    statuses = dict(archive.query("SELECT id, status FROM illusts"))
    assert statuses == {ILLUST: "available", UGOIRA: "available", DELETED: "deleted", MANGA: "available", HIDDEN: "hidden"}
    assert archive.query("SELECT illust_id FROM ugoira") == [(UGOIRA,)]
    assert archive.query("SELECT count(*) FROM illust_pages WHERE illust_id = ?", MANGA)[0][0] == world.illust_by_id(MANGA).pages
    served = routes(sandbox)
    assert served["/v1/illust/detail"] == len(ids)
    assert served["/v1/ugoira/metadata"] == 1
    commented = [i for i in (ILLUST, UGOIRA, MANGA) if world.comment_count(world.illust_by_id(i))]
    top_level = dict(archive.query("SELECT work_id, count(*) FROM comments WHERE parent_id IS NULL GROUP BY work_id"))
    assert top_level == {i: world.comment_count(world.illust_by_id(i)) for i in commented}


@deferred_f_from_coro_f
async def test_without_comments_only_details(sandbox: RunningSandbox, archive: Archive) -> None:
    await crawl(IllustSpider, sandbox, archive, settings=NO_FILES, illust_id=str(ILLUST))
    assert routes(sandbox) == {"/auth/token": 1, "/v1/illust/detail": 1}
    assert archive.count("comments") == 0
