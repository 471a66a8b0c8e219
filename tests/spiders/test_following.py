"""The following spider: follow relations, users and their preview works; works=true archives every work once."""

from __future__ import annotations

import math

from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.spiders.following import FollowingSpider
from tests.crawl import Archive, RunningSandbox, crawl
from tests.spiders.conftest import NO_FILES, pages, routes

ME = 1


@deferred_f_from_coro_f
async def test_follows_users_and_preview_works(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    public, private = world.following_ids(ME, "public"), world.following_ids(ME, "private")

    await crawl(FollowingSpider, sandbox, archive, settings=NO_FILES, restrict="all")

    follows = set(archive.query("SELECT followed_user_id, restrict FROM follows WHERE user_id = ?", ME))
    assert follows == {(u, "public") for u in public} | {(u, "private") for u in private}
    assert set(public + private) <= {u for (u,) in archive.query("SELECT id FROM users")}
    previews = {w.id for u in public + private for w in world.latest_works(u, "any")}
    assert {i for (i,) in archive.query("SELECT id FROM illusts")} == previews
    assert routes(sandbox)["/v1/user/following"] == math.ceil(len(public) / 30) + math.ceil(len(private) / 30)
    assert routes(sandbox).get("/v1/user/illusts", 0) == 0


@deferred_f_from_coro_f
async def test_works_true_lists_each_followed_users_works_once(make_sandbox, archive: Archive) -> None:
    sandbox = make_sandbox(num_illusts=50_000, num_novels=20_000)
    world = sandbox.server.world
    user = 9
    followed = world.following_ids(user, "public")
    assert 3 <= len(followed) <= 6

    await crawl(FollowingSpider, sandbox, archive, settings=NO_FILES, user_id=str(user), works="true")

    works = {i for u in followed for t in ("illust", "manga") for i in world.user_illust_ids(u, t)}
    novels = {i for u in followed for i in world.user_illust_ids(u, "novel")}
    assert {i for (i,) in archive.query("SELECT id FROM illusts")} == works
    assert {i for (i,) in archive.query("SELECT id FROM novels")} == novels
    served = routes(sandbox)
    assert served["/v1/user/following"] == 1
    assert served["/v1/user/illusts"] == sum(pages(len(world.user_illust_ids(u, t))) for u in followed for t in ("illust", "manga"))
    assert served["/v1/user/novels"] == sum(pages(len(world.user_illust_ids(u, "novel"))) for u in followed)
    assert served.get("/v1/user/detail", 0) == 0
