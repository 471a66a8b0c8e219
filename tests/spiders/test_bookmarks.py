"""The bookmarks spider: works + bookmark relations, both restricts, tags on request, incremental re-runs."""

from __future__ import annotations

import json
import math

from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.spiders.bookmarks import BookmarksSpider
from tests.crawl import Archive, RunningSandbox, crawl
from tests.spiders.conftest import NO_FILES, routes

ME = 1  # the sandbox's logged-in user


@deferred_f_from_coro_f
async def test_all_bookmarks_of_the_logged_in_user_with_relations_and_statuses(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    public = world.user_bookmarks(ME, "public", "illust")
    private = world.user_bookmarks(ME, "private", "illust")

    await crawl(BookmarksSpider, sandbox, archive, settings=NO_FILES, restrict="all")

    rows = archive.query("SELECT work_id, restrict, tags FROM bookmarks WHERE user_id = ? AND work_kind = 'illust'", ME)
    assert {(w, r) for w, r, _ in rows} == {(w, "public") for w in public} | {(w, "private") for w in private}
    assert all(tags is None for _, _, tags in rows)  # not asked for
    # Deleted and hidden works stay as rows with their status.
    works = {w: world.illust_by_id(w) for w in public + private}
    statuses = dict(archive.query("SELECT id, status FROM illusts"))
    assert set(statuses) == set(works)
    assert {w for w, s in statuses.items() if s == "deleted"} == {w for w, x in works.items() if x.deleted}
    assert {w for w, s in statuses.items() if s == "hidden"} == {w for w, x in works.items() if x.hidden and not x.deleted}

    assert routes(sandbox)["/v1/user/bookmarks/illust"] == math.ceil(len(public) / 30) + math.ceil(len(private) / 30)
    assert routes(sandbox).get("/v1/illust/detail", 0) == 0
    assert routes(sandbox).get("/v2/illust/bookmark/detail", 0) == 0


@deferred_f_from_coro_f
async def test_tag_filter_and_bookmark_tags_cost_one_request_per_work(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    tag = next(t for b in world.bookmark_entries(ME, "illust", "public") for t in b.tags)
    entries = world.filter_bookmarks(ME, "illust", "public", tag)

    await crawl(BookmarksSpider, sandbox, archive, settings=NO_FILES, tag=tag, tags="true")

    rows = archive.query("SELECT work_id, tags FROM bookmarks WHERE user_id = ?", ME)
    deleted = {b.work_id for b in entries if world.illust_by_id(b.work_id).deleted}
    assert deleted  # their detail would be a 404: recorded without tags, not asked
    expected = {b.work_id: None if b.work_id in deleted else sorted(b.tags) for b in entries}
    assert {w: t and sorted(json.loads(t)) for w, t in rows} == expected
    assert routes(sandbox)["/v1/user/bookmarks/illust"] == math.ceil(len(entries) / 30)
    assert routes(sandbox)["/v2/illust/bookmark/detail"] == len(entries) - len(deleted)


@deferred_f_from_coro_f
async def test_novel_bookmarks_of_another_user(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    user = next(u for u in range(2, 100) if len(world.user_bookmarks(u, "public", "novel")) > 5)
    expected = world.user_bookmarks(user, "public", "novel")
    await crawl(BookmarksSpider, sandbox, archive, settings=NO_FILES, user_id=str(user), type="novel")
    assert {w for (w,) in archive.query("SELECT work_id FROM bookmarks WHERE user_id = ? AND work_kind = 'novel'", user)} == set(expected)
    assert {i for (i,) in archive.query("SELECT id FROM novels")} == set(expected)


@deferred_f_from_coro_f
async def test_incremental_rerun_costs_one_request_and_still_records_first_page_relations(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    public = world.user_bookmarks(ME, "public", "illust")
    settings = {**NO_FILES, "PIXIV_INCREMENTAL": True}
    await crawl(BookmarksSpider, sandbox, archive, settings=settings)
    assert archive.count("bookmarks") == len(public)

    # A bookmark of an already archived work, new since the last run, is on the first page.
    archive.query("DELETE FROM bookmarks WHERE work_id = ?", public[0])
    sandbox.reset_stats()
    crawler = await crawl(BookmarksSpider, sandbox, archive, settings=settings)
    assert routes(sandbox) == {"/auth/token": 1, "/v1/user/bookmarks/illust": 1}
    assert sandbox.stats()["image_requests"] == 0
    assert crawler.stats.get_value("pixivcrawl/incremental/listings_stopped") == 1
    assert archive.count("bookmarks") == len(public)


@deferred_f_from_coro_f
async def test_incremental_rerun_reads_on_while_pages_hold_only_new_bookmarks_of_archived_works(
    sandbox: RunningSandbox, archive: Archive
) -> None:
    world = sandbox.server.world
    public = world.user_bookmarks(ME, "public", "illust")
    assert len(public) > 60
    settings = {**NO_FILES, "PIXIV_INCREMENTAL": True}
    await crawl(BookmarksSpider, sandbox, archive, settings=settings)

    # 35 bookmarks, new since the last run, of works the archive has (from another crawl, say):
    # the first page is all new bookmarks, and the second holds the last 5 of them.
    for work_id in public[:35]:
        archive.query("DELETE FROM bookmarks WHERE user_id = ? AND work_id = ?", ME, work_id)
    sandbox.reset_stats()
    crawler = await crawl(BookmarksSpider, sandbox, archive, settings=settings)
    assert routes(sandbox) == {"/auth/token": 1, "/v1/user/bookmarks/illust": 2}
    assert crawler.stats.get_value("pixivcrawl/incremental/listings_stopped") == 1
    assert {w for (w,) in archive.query("SELECT work_id FROM bookmarks WHERE user_id = ?", ME)} == set(public)
