"""User lists: followers, related users, My pixiv (and /v2/user/list), users recommended to the account."""

from __future__ import annotations

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.spiders.recommended import RecommendedSpider
from pixivcrawl.spiders.user_lists import FollowersSpider, MypixivSpider, RelatedUsersSpider
from tests.crawl import Archive, RunningSandbox, crawl
from tests.spiders.conftest import NO_FILES, pages, routes

ME = 1


def assert_users_archived(archive: Archive, world, ids: list[int]) -> None:
    users = dict(archive.query("SELECT id, is_muted FROM users"))
    assert set(ids) <= set(users)
    # is_muted of each user_previews entry is kept on the user.
    assert {u: bool(users[u]) for u in ids} == {u: world.is_muted(u) for u in ids}
    previews = {w.id for u in ids for w in world.latest_works(u, "any") if w.novel is False}
    assert previews <= {i for (i,) in archive.query("SELECT id FROM illusts")}


@deferred_f_from_coro_f
async def test_followers_are_follow_rows_to_the_user(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    user = 7
    followers = world.follower_ids(user)
    assert followers
    await crawl(FollowersSpider, sandbox, archive, settings=NO_FILES, user_id=str(user))
    rows = archive.query("SELECT user_id, restrict FROM follows WHERE followed_user_id = ?", user)
    assert sorted(rows) == sorted((u, "public") for u in followers)
    assert_users_archived(archive, world, followers)
    assert routes(sandbox)["/v1/user/follower"] == pages(len(followers))


@deferred_f_from_coro_f
async def test_related_users_keep_their_order(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    seed = 42
    await crawl(RelatedUsersSpider, sandbox, archive, settings=NO_FILES, seed_user_id=str(seed))
    rows = archive.query("SELECT other_user_id FROM user_relations WHERE relation = 'related' AND user_id = ? ORDER BY position", seed)
    assert [u for (u,) in rows] == world.related_user_ids(seed)
    assert_users_archived(archive, world, world.related_user_ids(seed))


@pytest.mark.parametrize(("args", "relation", "route"), [
    ({}, "mypixiv", "/v1/user/mypixiv"),
    ({"list": "true"}, "listed", "/v2/user/list"),
])
@deferred_f_from_coro_f
async def test_mypixiv_and_user_list(sandbox: RunningSandbox, archive: Archive, args: dict, relation: str, route: str) -> None:
    world = sandbox.server.world
    user = 3
    expected = world.mypixiv_ids(user) if relation == "mypixiv" else world.listed_user_ids(user)
    assert expected
    files = relation == "listed"  # one list with files (the short one): the previews' pages on disk
    await crawl(MypixivSpider, sandbox, archive, settings={} if files else NO_FILES, user_id=str(user), **args)
    rows = archive.query("SELECT other_user_id FROM user_relations WHERE relation = ? AND user_id = ? ORDER BY position", relation, user)
    assert [u for (u,) in rows] == expected
    assert routes(sandbox)[route] == pages(len(expected))
    assert_users_archived(archive, world, expected)
    if not files:
        return
    stored = archive.query("SELECT local_path, size FROM illust_pages WHERE local_path IS NOT NULL")
    assert stored
    for local_path, size in stored:
        assert (archive.files / local_path).stat().st_size == size


@deferred_f_from_coro_f
async def test_recommended_users_to_the_account(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    await crawl(RecommendedSpider, sandbox, archive, settings=NO_FILES, type="user", pages="2")
    rows = archive.query("SELECT other_user_id FROM user_relations WHERE relation = 'recommended' AND user_id = ? ORDER BY position", ME)
    assert [u for (u,) in rows] == world.recommended_user_ids(ME)[:60]
    assert routes(sandbox)["/v1/user/recommended"] == 2
    assert_users_archived(archive, world, world.recommended_user_ids(ME)[:60])
