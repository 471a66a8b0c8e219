"""The novel spider: detail + one webview per novel, text stored raw and plain, hidden and deleted kept."""

from __future__ import annotations

from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from pixivcrawl.items import ApiObject
from pixivcrawl.novel_text import plain_text
from pixivcrawl.spiders.novel import NovelSpider
from tests.crawl import Archive, RunningSandbox, crawl
from tests.spiders.conftest import NO_FILES, routes

TABLES = ("novels", "novel_texts", "novel_tags", "tags", "users", "series", "work_stats")


def pick(world, count: int, want) -> list:
    return [w for w in map(world.novel, range(20_000)) if want(w)][:count]


@deferred_f_from_coro_f
async def test_novels_by_id_store_detail_text_hidden_and_deleted(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    shown = pick(world, 3, lambda w: not (w.deleted or w.hidden) and w.series_id)
    shown += pick(world, 1, lambda w: not (w.deleted or w.hidden) and w.idx % 4 == 0)  # a default cover
    hidden = pick(world, 1, lambda w: w.hidden)[0]
    deleted = pick(world, 1, lambda w: w.deleted)[0]
    ids = [w.id for w in shown] + [hidden.id, deleted.id]
    # A repeated id is asked for once.
    crawler = await crawl(NovelSpider, sandbox, archive, settings=NO_FILES, novel_id=",".join(map(str, ids + ids[:1])))
    assert crawler.stats.get_value("finish_reason") == "finished"
    assert crawler.stats.get_value("pixivcrawl/validation/dropped/novel_text") is None

    statuses = dict(archive.query("SELECT id, status FROM novels"))
    assert statuses == {**{w.id: "available" for w in shown}, hidden.id: "hidden", deleted.id: "deleted"}
    assert archive.query("SELECT restriction FROM novels WHERE id = ?", hidden.id) == [(f"limit_{hidden.hidden}",)]

    texts = {row[0]: row[1:] for row in archive.query("SELECT novel_id, text, plain_text, length FROM novel_texts")}
    assert set(texts) == {w.id for w in shown}
    for w in shown:
        raw, plain, length = texts[w.id]
        assert raw == world.novel_text(w)
        assert plain == plain_text(raw) and length == len(plain)
        assert "[newpage]" not in plain and "[[rb:" not in plain and "[chapter:" not in plain
        assert plain.count("\f") == w.pages - 1

    for w in shown:
        obj = world.novel_obj(w)
        row = archive.query(
            "SELECT title, user_id, text_length, page_count, series_id, cover_url, total_bookmarks, ai_type "
            "FROM novels WHERE id = ?", w.id,
        )[0]
        cover = None if w.idx % 4 == 0 else obj["image_urls"]["large"]
        assert row == (obj["title"], w.user_id, obj["text_length"], w.pages, w.series_id or None, cover,
                       obj["total_bookmarks"], w.ai_type)
        tags = archive.query(
            "SELECT tag, added_by_uploaded_user FROM novel_tags WHERE novel_id = ? ORDER BY position", w.id
        )
        assert tags == [(t["name"], 1) for t in obj["tags"]]
    series = archive.query("SELECT id, title FROM series WHERE kind = 'novel'")
    assert set(series) == {(w.series_id, world.series_title(w.series_id, True)) for w in shown if w.series_id}

    served = routes(sandbox)
    assert served["/v2/novel/detail"] == len(ids)
    assert served["/webview/v2/novel"] == len(shown)  # one per readable novel, none for placeholders
    assert served.get("/v3/novel/comments", 0) == 0

    before = archive.counts(*TABLES)
    await crawl(NovelSpider, sandbox, archive, settings=NO_FILES, novel_id=",".join(map(str, ids)))
    assert archive.counts(*TABLES) == before



def test_a_novel_seen_twice_in_a_crawl_costs_one_webview() -> None:
    from pixivcrawl.sandbox.world import World

    world = World()
    shown = next(w for w in map(world.novel, range(100)) if not (w.deleted or w.hidden))
    hidden = next(w for w in map(world.novel, range(5000)) if w.hidden)
    crawler = get_crawler(NovelSpider, {"PIXIV_API_URL": "http://api.test"})
    spider = NovelSpider.from_crawler(crawler, novel_id=str(shown.id))
    objects = [world.novel_obj(shown), world.novel_obj(hidden)]
    first = list(spider.novel_objects(objects))
    again = list(spider.novel_objects(objects))
    requests = [r for r in first + again if not isinstance(r, ApiObject)]
    assert [r.url for r in requests] == [f"http://api.test/webview/v2/novel?id={shown.id}&viewer_version=20221031_ai"]
    assert [o.kind for o in first + again if isinstance(o, ApiObject)] == ["novel"] * 4


@deferred_f_from_coro_f
async def test_novel_with_uploaded_and_pixiv_images_archives_them_with_files(sandbox: RunningSandbox, archive: Archive) -> None:
    world = sandbox.server.world
    [novel] = pick(world, 1, lambda w: not (w.deleted or w.hidden) and "[uploadedimage:" in world.novel_text(w)
                   and "[pixivimage:" in world.novel_text(w))
    page = world.webview_novel(novel)
    crawler = await crawl(NovelSpider, sandbox, archive, novel_id=str(novel.id))
    assert crawler.stats.get_value("finish_reason") == "finished"

    assert archive.query("SELECT like_count FROM novel_texts WHERE novel_id = ?", novel.id) == [(page["rating"]["like"],)]
    uploaded = archive.query(
        "SELECT image_key, sanity_level, url, local_path, size, sha256 FROM novel_images WHERE kind = 'uploaded' ORDER BY image_key"
    )
    assert [(key, sl, url) for key, sl, url, *_ in uploaded] == [
        (key, int(image["sl"]), image["urls"]["original"]) for key, image in sorted(page["images"].items())
    ]
    for key, _, _, local_path, size, sha256 in uploaded:
        assert local_path == f"novels/{novel.id}_image{key}.jpg"
        stored = archive.files / local_path
        assert stored.stat().st_size == size and len(sha256) == 64

    [(key, illust_id, image_page, url, local_path)] = archive.query(
        "SELECT image_key, illust_id, page, url, local_path FROM novel_images WHERE kind = 'pixiv'"
    )
    assert f"[pixivimage:{key}]" in page["text"] and key == f"{illust_id}-{image_page}"
    # The illust page the text shows, from the page's `illusts` map, is stored beside the novel.
    entry = page["illusts"][key]
    assert url == entry["illust"]["images"]["original"]
    assert local_path == f"novels/{novel.id}_image{key}{url[url.rindex('.'):]}"
    assert (archive.files / local_path).is_file()

    # Read again, the text's images are found archived: none is fetched twice.
    sandbox.reset_stats()
    crawler = await crawl(NovelSpider, sandbox, archive, novel_id=str(novel.id))
    assert crawler.stats.get_value("file_status_count/uptodate") >= len(uploaded) + 1
    assert sandbox.stats()["image_requests"] == 0
