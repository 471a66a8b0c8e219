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


@deferred_f_from_coro_f
async def test_series_true_archives_the_series_context(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world

    def members_of(w) -> list[int]:
        return [i for i in world.series_members(w.series_id, False) if not world.illust(i).deleted]

    # A work with a previous and a next one, all three shown.
    work = next(
        w for w in map(world.illust, range(1000, 20000))
        if w.series_id and not (w.deleted or w.hidden) and w.idx in members_of(w)[1:-1]
        and not any(world.illust(i).hidden for i in members_of(w))
    )
    members = members_of(work)
    position = members.index(work.idx) + 1
    crawler = await crawl(IllustSpider, sandbox, archive, illust_id=str(work.id), series="true")
    assert crawler.stats.get_value("finish_reason") == "finished"

    assert archive.query("SELECT id, title, work_count, width, height, watchlist_added FROM series WHERE kind = 'illust'") == [
        (work.series_id, world.series_title(work.series_id, False), len(members), 1000, 1414, int(work.series_id % 5 == 0))
    ]
    prev, nxt = world.illust(members[position - 2]), world.illust(members[position])
    assert archive.query("SELECT work_id, position FROM series_works ORDER BY position") == [
        (prev.id, position - 1), (work.id, position), (nxt.id, position + 1)
    ]
    # The previous and next works are archived whole, with their files.
    assert {i for (i,) in archive.query("SELECT id FROM illusts")} == {prev.id, work.id, nxt.id}
    for path, in archive.query("SELECT local_path FROM illust_pages WHERE illust_id IN (?, ?, ?)", prev.id, work.id, nxt.id):
        assert (archive.files / path).is_file()
    assert routes(sandbox)["/v1/illust-series/illust"] == 1


@deferred_f_from_coro_f
async def test_series_true_skips_works_in_no_series(sandbox: RunningSandbox, archive: Archive) -> None:
    await crawl(IllustSpider, sandbox, archive, settings=NO_FILES, illust_id=str(ILLUST), series="true")
    assert not sandbox.server.world.illust_by_id(ILLUST).series_id
    assert routes(sandbox).get("/v1/illust-series/illust", 0) == 0


@deferred_f_from_coro_f
async def test_restriction_attributes_and_comment_access_control_are_kept(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    restricted = next(w for w in map(world.illust, range(5, 5000, 97)) if not (w.deleted or w.hidden))
    await crawl(IllustSpider, sandbox, archive, settings=NO_FILES, illust_id=f"{restricted.id},{ILLUST}")
    rows = dict(archive.query("SELECT id, restriction_attributes FROM illusts"))
    assert rows == {restricted.id: '["restricted_mode"]', ILLUST: None}
    assert archive.query("SELECT DISTINCT comment_access_control FROM illusts") == [(0,)]
