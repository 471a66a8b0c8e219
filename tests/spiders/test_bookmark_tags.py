"""The bookmark_tags spider: a user's bookmark tags with their counts, per kind and restrict."""

from __future__ import annotations

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.spiders.bookmark_tags import BookmarkTagsSpider
from tests.crawl import Archive, RunningSandbox, crawl
from tests.spiders.conftest import NO_FILES, pages, routes

ME = 1


@pytest.mark.parametrize("kind", ["illust", "novel"])
@deferred_f_from_coro_f
async def test_bookmark_tags_with_counts(sandbox: RunningSandbox, archive: Archive, kind: str) -> None:
    world = sandbox.server.world
    await crawl(BookmarkTagsSpider, sandbox, archive, settings=NO_FILES, type=kind, restrict="all")
    for restrict in ("public", "private"):
        expected = world.bookmark_tags(ME, kind, restrict)
        rows = archive.query(
            'SELECT name, count FROM bookmark_tags WHERE user_id = ? AND kind = ? AND "restrict" = ?', ME, kind, restrict
        )
        assert sorted(rows) == sorted((t["name"], t["count"]) for t in expected)
    assert archive.query("SELECT DISTINCT kind FROM bookmark_tags") == [(kind,)]  # not empty, one kind
    served = sum(pages(len(world.bookmark_tags(ME, kind, r))) for r in ("public", "private"))
    assert routes(sandbox)[f"/v1/user/bookmark-tags/{kind}"] == served
