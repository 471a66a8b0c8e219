"""Conformance: the real third-party client pixivpy3 drives every endpoint and reads what its users read."""
from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

pixivpy3 = pytest.importorskip("pixivpy3")

from pixivcrawl.sandbox import Sandbox  # noqa: E402


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[Any]:
    api = pixivpy3.AppPixivAPI()
    # pixivpy sends auth to `hosts + /auth/token` (with Host: oauth.secure.pixiv.net) once hosts is not
    # the default, so pointing hosts at the sandbox redirects both API and OAuth.
    api.hosts = sandbox.api_url
    api.auth(refresh_token=sandbox.config.refresh_token)
    yield api
    api.requests.close()


def ok(res: Any) -> Any:
    assert "error" not in res, res
    return res


def test_auth_sets_user(api: Any) -> None:
    assert api.user_id == "1" and api.access_token


def test_ranking_paging_with_parse_qs(api: Any, sandbox: Sandbox) -> None:
    seen, res, pages = [], ok(api.illust_ranking("day", date="2026-10-20")), 0
    while True:
        seen += [i.id for i in res.illusts]
        pages += 1
        qs = api.parse_qs(res.next_url)
        if qs is None:
            break
        res = ok(api.illust_ranking(**qs))
    assert seen == sandbox.world.ranking("day", "2026-10-20") and pages == 4


def test_illust_endpoints(api: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    world = sandbox.world
    ids = world.ranking("day", "2026-10-20")
    multi = next(i for i in ids if world.illust_by_id(i).pages > 1 and not world.illust_by_id(i).hidden)
    ill = ok(api.illust_detail(multi)).illust
    url = ill.meta_pages[0].image_urls.original
    assert api.download(url, path=str(tmp_path))
    Image.open(tmp_path / Path(url).name).verify()
    single = next(i for i in ids if world.illust_by_id(i).pages == 1 and not world.illust_by_id(i).hidden)
    url = ok(api.illust_detail(single)).illust.meta_single_page.original_image_url
    buf = io.BytesIO()
    api.download(url, fname=buf)
    Image.open(io.BytesIO(buf.getvalue())).verify()

    rel = ok(api.illust_related(multi))
    assert rel.illusts and "viewed%5B0%5D" in rel.next_url and "seed_illust_ids%5B0%5D" in rel.next_url
    ok(api.illust_related(**api.parse_qs(rel.next_url)))
    rec = ok(api.illust_recommended(include_ranking_illusts=True))
    assert rec.illusts and rec.ranking_illusts and rec.contest_exists is False
    ok(api.illust_recommended(**api.parse_qs(rec.next_url)))
    new = ok(api.illust_new())
    assert new.illusts and "max_illust_id" in api.parse_qs(new.next_url)
    ok(api.illust_new(**api.parse_qs(new.next_url)))
    assert ok(api.illust_follow()).illusts
    assert ok(api.illust_follow(restrict="private")).illusts is not None
    tt = ok(api.trending_tags_illust())
    assert tt.trend_tags[0].tag and tt.trend_tags[0].illust.id
    bd = ok(api.illust_bookmark_detail(multi)).bookmark_detail
    assert bd.is_bookmarked in (True, False) and isinstance(bd.tags, list)
    assert ok(api.illust_bookmark_add(multi)) == {} and ok(api.illust_bookmark_delete(multi)) == {}
    dead = api.illust_comments(multi)
    assert dead.error.user_message == "Specified end-point doesn't exist"


def test_ugoira(api: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    world = sandbox.world
    ug = next(world.illust(i) for i in range(100_000, 101_000)
              if world.illust(i).type == "ugoira" and not world.illust(i).hidden and not world.illust(i).deleted)
    ill = ok(api.illust_detail(ug.id)).illust
    assert ill.type == "ugoira" and ill.meta_single_page.original_image_url.endswith("_ugoira0.jpg")
    meta = ok(api.ugoira_metadata(ug.id)).ugoira_metadata
    assert meta.frames[0].delay > 0 and meta.frames[0].file == "000000.jpg"
    zip_url = meta.zip_urls.medium
    assert zip_url.endswith("_ugoira600x600.zip")
    import zipfile
    for url in (zip_url, zip_url.replace("600x600", "1920x1080")):
        api.download(url, path=str(tmp_path))
        with zipfile.ZipFile(tmp_path / Path(url).name) as z:
            assert z.namelist() == [f["file"] for f in meta.frames]
            Image.open(io.BytesIO(z.read(z.namelist()[0]))).verify()
    api.download(ill.meta_single_page.original_image_url, path=str(tmp_path))
    Image.open(tmp_path / f"{ug.id}_ugoira0.jpg").verify()


def test_search(api: Any) -> None:
    res = ok(api.search_illust("猫", search_target="partial_match_for_tags"))
    assert len(res.illusts) == 30 and res.search_span_limit and "show_ai" in res
    nxt = api.parse_qs(res.next_url)
    assert nxt["word"] == "猫" and nxt["offset"] == "30"
    ok(api.search_illust(**nxt))
    assert ok(api.search_illust("猫", sort="popular_desc", search_ai_type=0)).illusts
    assert ok(api.search_illust("夏の", search_target="title_and_caption", start_date="2026-10-01",
                                end_date="2026-10-05")).illusts
    assert ok(api.search_novel("女の子")).novels
    assert ok(api.search_user("さくら")).user_previews
    capped = api.search_illust("猫", offset=5010)
    assert capped.error.message == '{"offset":["offset must be no more than 5000"]}'


def test_user_endpoints(api: Any, sandbox: Sandbox) -> None:
    u = ok(api.user_detail(1))
    assert u.user.name and u.profile.total_illusts >= 0 and u.workspace is not None
    ill = ok(api.user_illusts(1))
    assert ill.user.id == 1 and ill.illusts and ill.next_url
    ok(api.user_illusts(**api.parse_qs(ill.next_url)))
    ok(api.user_illusts(1, type="manga"))
    assert ok(api.user_novels(api.user_id)).novels is not None
    ids, qs = [], {"user_id": 1}
    while qs:
        res = ok(api.user_bookmarks_illust(**qs))
        ids += [i.id for i in res.illusts]
        qs = api.parse_qs(res.next_url)
    assert ids == sandbox.world.user_bookmarks(1, "public")
    assert ok(api.user_bookmarks_illust(1, restrict="private")).illusts
    assert ok(api.user_bookmarks_novel(1)).novels
    assert ok(api.user_bookmark_tags_illust(1)).bookmark_tags[0].count > 0
    tag = ok(api.user_bookmark_tags_illust(1)).bookmark_tags[0].name
    tagged = ok(api.user_bookmarks_illust(1, tag=tag)).illusts
    assert tagged and len(tagged) <= 30
    f = ok(api.user_following(1))
    assert len(f.user_previews) == 30 and f.user_previews[0].user.name and f.next_url
    assert ok(api.user_follower(1)).user_previews
    assert ok(api.user_mypixiv(1)).user_previews
    assert ok(api.user_recommended()).user_previews
    assert ok(api.user_related(5)).user_previews
    listed = ok(api.user_list(1)).user_previews
    assert [p.user.id for p in listed] == sandbox.world.listed_user_ids(1)
    assert all("is_accept_request" in p.user and "is_muted" in p for p in listed)
    assert ok(api.user_follow_add(5)) == {} and ok(api.user_follow_delete(5)) == {}


def test_novel_endpoints(api: Any, sandbox: Sandbox) -> None:
    world = sandbox.world
    n = next(world.novel(i) for i in range(200, 2000) if world.novel(i).series_id and not world.novel(i).hidden
             and not world.novel(i).deleted)
    novel = ok(api.novel_detail(n.id)).novel
    assert novel.id == n.id and novel.series.id == n.series_id
    wv = api.webview_novel(n.id)
    assert wv.text == world.novel_text(n) and wv.id == str(n.id)
    assert ("[newpage]" in wv.text) == (n.pages > 1) and "[chapter:" in wv.text
    assert api.novel_text(n.id).novel_text == wv.text
    s = ok(api.novel_series(n.series_id))
    assert s.novel_series_detail.id == n.series_id and s.novels
    if s.next_url:
        assert "last_order" in api.parse_qs(s.next_url)
        ok(api.novel_series(**api.parse_qs(s.next_url)))
    nn = ok(api.novel_new())
    assert nn.novels and ok(api.novel_new(**api.parse_qs(nn.next_url))).novels
    assert ok(api.novel_follow()).novels
    assert ok(api.novel_recommended(include_ranking_novels=True)).novels
    c = ok(api.novel_comments(n.id))
    assert "comments" in c


def test_comments_and_replies(api: Any, sandbox: Sandbox) -> None:
    world = sandbox.world
    w = next(world.illust(i) for i in range(50_000, 60_000) if world.comment_count(world.illust(i)) > 31)
    res = ok(api.no_auth_requests_call("GET", f"{api.hosts}/v3/illust/comments", params={"illust_id": w.id}).json())
    assert len(res["comments"]) == 30 and res["next_url"]
    parent = next(c for c in res["comments"] if c["has_replies"])
    rep = ok(api.no_auth_requests_call("GET", f"{api.hosts}/v2/illust/comment/replies",
                                       params={"comment_id": parent["id"]}).json())
    assert rep["comments"]
    series_id = next(world.illust(i).series_id for i in range(5000) if world.illust(i).series_id)
    sr = ok(api.no_auth_requests_call("GET", f"{api.hosts}/v1/illust/series",
                                      params={"illust_series_id": series_id}).json())
    assert sr["illust_series_detail"]["series_work_count"] == len(sr["illusts"])


def get(api: Any, path: str, **params: Any) -> Any:
    """An endpoint pixivpy has no method for, through its own authenticated session."""
    return ok(api.parse_result(api.no_auth_requests_call("GET", f"{api.hosts}{path}", params=params)))


def test_endpoints_added_for_the_whole_reference(api: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    world = sandbox.world
    # A novel whose text embeds uploaded images: the webview's `images` map, files served.
    n = next(world.novel(i) for i in range(2000) if not (world.novel(i).hidden or world.novel(i).deleted)
             and "[uploadedimage:" in world.novel_text(world.novel(i)))
    wv = api.webview_novel(n.id)
    key, image = next(iter(wv.images.items()))
    assert f"[uploadedimage:{key}]" in wv.text and image.novelImageId == key
    assert set(image.urls) == {"240mw", "480mw", "1200x1200", "128x128", "original"}
    assert wv.rating.like >= 0
    api.download(image.urls.original, path=str(tmp_path))
    Image.open(tmp_path / Path(image.urls.original).name).verify()

    ranking = get(api, "/v1/novel/ranking", mode="week_rookie", date="2026-10-20", filter="for_ios")
    assert [x.id for x in ranking.novels] == world.ranking("week_rookie", "2026-10-20", novel=True)[:30]
    trends = get(api, "/v1/trending-tags/novel", filter="for_ios").trend_tags
    assert trends and all(t.illust.id and "novel" not in t for t in trends)
    assert get(api, "/v1/user/bookmark-tags/novel", user_id=1, restrict="public").bookmark_tags is not None

    work = next(w for w in map(world.illust, range(1000, 20000)) if w.series_id and not (w.deleted or w.hidden))
    context = get(api, "/v1/illust-series/illust", illust_id=work.id)
    assert context.illust_series_detail.id == work.series_id and context.illust_series_context.content_order >= 1

    followers = ok(api.user_follower(7)).user_previews
    assert followers and all("is_accept_request" in p.user and "is_muted" in p for p in followers)
    embedded = followers[0].illusts[0].user if followers[0].illusts else ok(api.illust_detail(work.id)).illust.user
    assert "is_accept_request" not in embedded and "is_access_blocking_user" not in embedded
    assert [p.user.id for p in ok(api.user_related(42)).user_previews] == world.related_user_ids(42)
    assert ok(api.user_mypixiv(3)).user_previews is not None

    ai = ok(api.search_illust("猫", search_ai_type=2)).illusts
    assert ai and all(i.illust_ai_type == 2 for i in ai if i.visible)
    rec = ok(api.illust_recommended())
    assert "viewed%5B0%5D" in rec.next_url and "max_bookmark_id_for_recommend" in rec.next_url
    assert ok(api.illust_recommended(**api.parse_qs(rec.next_url))).illusts

    hidden = next(w for w in map(world.illust, range(5000)) if w.hidden)
    placeholder = ok(api.illust_detail(hidden.id)).illust
    assert placeholder.visible is False and placeholder.sanity_level == 0 and "comment_access_control" in placeholder
    commented = next(world.illust(i) for i in range(50_000, 60_000) if world.comment_count(world.illust(i)) > 31)
    comments = get(api, "/v3/illust/comments", illust_id=commented.id).comments
    stamps = [c for c in comments if c.stamp]
    assert stamps and all(c.stamp.stamp_url and c.comment == "" for c in stamps)
