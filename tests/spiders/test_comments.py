"""The shared comments path: v3 pages, replies under their parent, deleted commenters, no v1 calls."""

from __future__ import annotations

from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.spiders.illust import IllustSpider
from pixivcrawl.spiders.novel import NovelSpider
from tests.crawl import Archive, RunningSandbox, crawl
from tests.spiders.conftest import NO_FILES, pages, routes

PAGE_SIZE = 10


def commented(world, novel: bool, minimum: int):
    get = world.novel if novel else world.illust
    return next(
        w for w in map(get, range(50_000))
        if not (w.deleted or w.hidden) and world.comment_count(w) > minimum
        and any(world.reply_count(world.comment_id(w, k)) for k in range(world.comment_count(w)))
    )


def expected(world, work) -> dict[int, int | None]:
    """Ground truth: comment id -> parent id (None for top-level comments)."""
    from pixivcrawl.sandbox.world.social import REPLY_BASE

    out: dict[int, int | None] = {}
    for k in range(world.comment_count(work)):
        cid = world.comment_id(work, k)
        out[cid] = None
        out.update({REPLY_BASE + cid * 8 + j: cid for j in range(world.reply_count(cid))})
    return out


@deferred_f_from_coro_f
async def test_illust_comments_and_replies_with_their_parents(make_sandbox, archive: Archive) -> None:
    sandbox: RunningSandbox = make_sandbox(page_size=PAGE_SIZE)
    world = sandbox.server.world
    illust = commented(world, novel=False, minimum=2 * PAGE_SIZE)
    truth = expected(world, illust)
    crawler = await crawl(IllustSpider, sandbox, archive, settings=NO_FILES, illust_id=str(illust.id), comments="true")
    assert crawler.stats.get_value("pixivcrawl/validation/dropped/comment") is None

    rows = archive.query("SELECT id, parent_id, work_kind, work_id FROM comments")
    assert {i: p for i, p, _, _ in rows} == truth
    assert {(k, w) for _, _, k, w in rows} == {("illust", illust.id)}
    # Only top-level comments say whether they have replies; those that do have them stored.
    with_replies = {i for (i,) in archive.query("SELECT id FROM comments WHERE has_replies = 1")}
    assert with_replies == {p for p in truth.values() if p}
    # Only stamp comments have no text; their stamp is kept.
    stamps = [i for i in truth if i % 8 == 5]
    assert archive.query("SELECT count(*) FROM comments WHERE text = ''") == [(len(stamps),)]
    assert archive.query("SELECT count(*) FROM comments WHERE stamp_id IS NOT NULL AND stamp_url LIKE '%/stamp/%'") == [(len(stamps),)]

    # A commenter who left Pixiv comes as null: the comment is kept, with no user.
    gone = [i for i in truth if i % 25 == 3]
    if gone:
        assert archive.query(f"SELECT user_id FROM comments WHERE id IN ({','.join(map(str, gone))})") == [(None,)] * len(gone)
    users = archive.query("SELECT count(*) FROM comments c JOIN users u ON u.id = c.user_id")[0][0]
    assert users == len(truth) - len(gone)

    served = routes(sandbox)
    assert served["/v3/illust/comments"] == pages(world.comment_count(illust), PAGE_SIZE)
    assert served["/v2/illust/comment/replies"] == len(with_replies)
    assert served.get("/v1/illust/comments", 0) == 0


@deferred_f_from_coro_f
async def test_novel_comments_and_replies(make_sandbox, archive: Archive) -> None:
    sandbox: RunningSandbox = make_sandbox(page_size=PAGE_SIZE)
    world = sandbox.server.world
    novel = commented(world, novel=True, minimum=PAGE_SIZE)
    truth = expected(world, novel)
    await crawl(NovelSpider, sandbox, archive, settings=NO_FILES, novel_id=str(novel.id), comments="true")
    rows = archive.query("SELECT id, parent_id FROM comments WHERE work_kind = 'novel' AND work_id = ?", novel.id)
    assert dict(rows) == truth
    served = routes(sandbox)
    assert served["/v3/novel/comments"] == pages(world.comment_count(novel), PAGE_SIZE)
    assert served["/v2/novel/comment/replies"] == sum(1 for p in set(truth.values()) if p)


@deferred_f_from_coro_f
async def test_works_without_comments_cost_no_comment_request(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    quiet = next(w for w in map(world.novel, range(5000)) if not (w.deleted or w.hidden) and world.comment_count(w) == 0)
    await crawl(NovelSpider, sandbox, archive, settings=NO_FILES, novel_id=str(quiet.id), comments="true")
    assert routes(sandbox).get("/v3/novel/comments", 0) == 0
    assert archive.count("comments") == 0
