"""The user spider: profile + every work listing, no detail calls; incremental re-runs cost one request."""

from __future__ import annotations

from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.spiders.user import UserSpider
from tests.crawl import Archive, RunningSandbox, crawl
from tests.spiders.conftest import NO_FILES, pages, routes

USER = 37


@deferred_f_from_coro_f
async def test_user_archives_profile_and_all_works_with_only_listing_requests(make_sandbox, archive: Archive) -> None:
    sandbox: RunningSandbox = make_sandbox(page_size=10, num_novels=20_000)
    world = sandbox.server.world
    illusts = world.user_illust_ids(USER, "illust")
    manga = world.user_illust_ids(USER, "manga")
    novels = world.user_illust_ids(USER, "novel")
    assert len(illusts) > 30 and manga and novels

    crawler = await crawl(UserSpider, sandbox, archive, settings=NO_FILES, user_id=str(USER))
    assert crawler.stats.get_value("finish_reason") == "finished"

    assert archive.query("SELECT detail_fetched_at IS NOT NULL FROM users WHERE id = ?", USER) == [(1,)]
    stored = {i for (i,) in archive.query("SELECT id FROM illusts WHERE user_id = ?", USER)}
    assert stored == set(illusts) | set(manga)
    assert {i for (i,) in archive.query("SELECT id FROM novels")} == set(novels)
    # Hidden works are rows with a status, never dropped.
    statuses = dict(archive.query("SELECT status, count(*) FROM illusts GROUP BY status"))
    hidden = [w for w in map(world.illust_by_id, illusts + manga) if w.hidden]
    assert statuses.get("hidden", 0) == len(hidden)

    served = routes(sandbox)
    assert served["/v1/user/detail"] == 1
    assert served["/v1/user/illusts"] == pages(len(illusts), 10) + pages(len(manga), 10)
    assert served["/v1/user/novels"] == pages(len(novels), 10)
    assert served.get("/v1/illust/detail", 0) == 0
    assert served.get("/v2/novel/detail", 0) == 0


@deferred_f_from_coro_f
async def test_user_skips_listings_the_profile_says_are_empty(make_sandbox, archive: Archive) -> None:
    sandbox = make_sandbox(num_illusts=50_000, num_novels=20_000)
    world = sandbox.server.world
    user = 27
    assert world.user_illust_ids(user, "illust")
    assert not world.user_illust_ids(user, "manga") and not world.user_illust_ids(user, "novel")
    await crawl(UserSpider, sandbox, archive, settings=NO_FILES, user_id=str(user), type="all")
    assert routes(sandbox) == {"/auth/token": 1, "/v1/user/detail": 1, "/v1/user/illusts": 1}


@deferred_f_from_coro_f
async def test_incremental_rerun_with_nothing_new_makes_one_request_per_listing_and_downloads_nothing(
    make_sandbox, archive: Archive
) -> None:
    sandbox = make_sandbox(num_illusts=200_000, num_novels=20_000)
    world = sandbox.server.world
    user = 22
    assert len(world.user_illust_ids(user, "illust")) > 30
    settings = {"PIXIV_INCREMENTAL": True}
    await crawl(UserSpider, sandbox, archive, settings=settings, user_id=str(user), type="illust")
    first = sandbox.stats()
    assert first["by_route"]["/v1/user/illusts"] == pages(len(world.user_illust_ids(user, "illust")))
    assert first["image_requests"] > 0

    sandbox.reset_stats()
    crawler = await crawl(UserSpider, sandbox, archive, settings=settings, user_id=str(user), type="illust")
    again = sandbox.stats()
    assert again["by_route"] == {"/auth/token": 1, "/v1/user/detail": 1, "/v1/user/illusts": 1}
    assert again["image_requests"] == 0
    assert crawler.stats.get_value("pixivcrawl/incremental/listings_stopped") == 1


@deferred_f_from_coro_f
async def test_incremental_rerun_of_novels_reads_no_text_again(make_sandbox, archive: Archive) -> None:
    sandbox = make_sandbox(num_illusts=50_000, num_novels=20_000)
    world = sandbox.server.world
    user = next(u for u in range(1, 200) if len(world.user_illust_ids(u, "novel")) > 3)
    settings = {**NO_FILES, "PIXIV_INCREMENTAL": True}
    await crawl(UserSpider, sandbox, archive, settings=settings, user_id=str(user), type="novel")
    assert sandbox.stats()["by_route"].get("/webview/v2/novel", 0) > 0
    texts = archive.count("novel_texts")

    sandbox.reset_stats()
    await crawl(UserSpider, sandbox, archive, settings=settings, user_id=str(user), type="novel")
    assert sandbox.stats()["by_route"] == {"/auth/token": 1, "/v1/user/detail": 1, "/v1/user/novels": 1}
    assert archive.count("novel_texts") == texts

    # A novel archived without its text is not complete: the next run reads it.
    archive.query("DELETE FROM novel_texts WHERE novel_id = (SELECT min(novel_id) FROM novel_texts)")
    sandbox.reset_stats()
    await crawl(UserSpider, sandbox, archive, settings=settings, user_id=str(user), type="novel")
    assert sandbox.stats()["by_route"].get("/webview/v2/novel") == 1
    assert archive.count("novel_texts") == texts
