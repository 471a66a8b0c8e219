"""Listings against ground truth: bookmark cursors, 5000 cap, search windows, follows, clock, webview."""
from __future__ import annotations

import json
import re
from typing import Any

from .conftest import Client

CAP = {"error": {"user_message": "", "message": '{"offset":["offset must be no more than 5000"]}', "reason": "",
                 "user_message_details": {}}}


def follow_all(c: Client, url: str, key: str) -> tuple[list[Any], int]:
    items, pages = [], 0
    while url:
        body = c.json(url)
        items += body[key]
        url = body["next_url"]
        pages += 1
    return items, pages


def test_bookmark_cursor_returns_every_bookmark_once(client: Client) -> None:
    world = client.sb.world
    for restrict in ("public", "private"):
        items, pages = follow_all(client, f"/v1/user/bookmarks/illust?user_id=1&restrict={restrict}&filter=for_ios",
                                  "illusts")
        ids = [i["id"] for i in items]
        assert ids == world.user_bookmarks(1, restrict) and len(set(ids)) == len(ids)
        assert pages == -(-len(ids) // 30)
    body = client.json("/v1/user/bookmarks/illust", user_id=1, restrict="public")
    assert "max_bookmark_id=" in body["next_url"] and "offset" not in body["next_url"]


def test_bookmarks_hold_deleted_and_hidden(client: Client) -> None:
    items, _ = follow_all(client, "/v1/user/bookmarks/illust?user_id=1&restrict=public", "illusts")
    gone = [i for i in items if i["image_urls"]["medium"].endswith("/common/images/limit_unknown_360.png")]
    assert gone and all(i["user"]["id"] == 0 and i["visible"] is False for i in gone)
    assert all(i["width"] == 100 and i["title"] == "" for i in gone)
    novels, _ = follow_all(client, "/v1/user/bookmarks/novel?user_id=1&restrict=public", "novels")
    assert novels and any(n["visible"] is False for n in novels)


def test_bookmark_tag_filter(client: Client) -> None:
    world = client.sb.world
    tags = client.json("/v1/user/bookmark-tags/illust", user_id=1)["bookmark_tags"]
    assert tags and all(set(t) == {"name", "count"} for t in tags)
    t = tags[0]
    items, _ = follow_all(client, f"/v1/user/bookmarks/illust?user_id=1&tag={t['name']}", "illusts")
    assert [i["id"] for i in items] == world.user_bookmarks(1, "public", tag=t["name"]) and len(items) == t["count"]


def test_offset_cap(client: Client) -> None:
    before = client.stats()["offset_cap"]
    for path in ("/v1/search/illust?word=猫", "/v1/search/novel?word=猫", "/v1/user/following?user_id=1",
                 "/v1/search/user?word=a"):
        r = client.get(path + "&offset=5001")
        assert r.status_code == 400 and r.json() == CAP, path
    assert client.json("/v1/search/illust", word="猫", offset=5000)["illusts"]
    assert client.stats()["offset_cap"] - before == 4


def test_search_big_word_reaches_cap_and_date_window(client: Client) -> None:
    world = client.sb.world
    assert world.search_illusts("猫") > 15_000
    body = client.json("/v1/search/illust", word="猫", offset=4980)
    nxt = body["next_url"]
    assert "offset=5010" in nxt
    assert client.get(nxt).json() == CAP
    # narrowing the window as gallery-dl does yields the older works
    last = body["illusts"][-1]["create_date"][:10]
    win = client.json("/v1/search/illust", word="猫", end_date=last)
    assert all(i["create_date"][:10] <= last for i in win["illusts"])
    got = [i["id"] for i in win["illusts"]]
    assert got == world.search_illust_ids("猫", end_date=last)[:30]


def test_search_targets_and_filters(client: Client) -> None:
    world = client.sb.world
    kw = {"start_date": "2026-10-01", "end_date": "2026-10-03"}
    for target, word in (("exact_match_for_tags", "オリジナル"), ("partial_match_for_tags", "ケモ"),
                         ("title_and_caption", "約束"), ("keyword", "cat")):
        items, _ = follow_all(client, f"/v1/search/illust?word={word}&search_target={target}"
                                      f"&start_date=2026-10-01&end_date=2026-10-03", "illusts")
        assert [i["id"] for i in items] == world.search_illust_ids(word, search_target=target, **kw), target
        assert items
        for i in items:
            assert "2026-10-01" <= i["create_date"][:10] <= "2026-10-03"
    asc = client.json("/v1/search/illust", word="猫", sort="date_asc", **kw)["illusts"]
    assert [i["id"] for i in asc] == sorted(i["id"] for i in asc)
    no_ai = client.json("/v1/search/illust", word="AI生成", search_ai_type=0, **kw)
    assert no_ai["illusts"] == [] and no_ai["show_ai"] is False
    assert client.json("/v1/search/illust", word="AI生成", search_ai_type=1, **kw)["illusts"]
    rare = world.search_illusts("sandbox-rare")
    assert 0 < rare < 1000
    both = client.json("/v1/search/illust", word="猫 ポケモン", **kw)["illusts"]
    assert both and all({"猫", "ポケモン"} <= {t["name"] for t in i["tags"]} for i in both if i["visible"])


def test_user_works_and_following(client: Client) -> None:
    world = client.sb.world
    items, _ = follow_all(client, "/v1/user/illusts?user_id=1&type=manga", "illusts")
    assert [i["id"] for i in items] == world.user_illust_ids(1, "manga")
    f, _ = follow_all(client, "/v1/user/following?user_id=1&restrict=public", "user_previews")
    assert [p["user"]["id"] for p in f] == world.following_ids(1, "public")
    assert all(p["user"]["is_followed"] for p in f)


def test_clock_grows_counts(client: Client) -> None:
    wid = client.sb.world.ranking("day", "2026-10-20")[0]
    before = client.json("/v1/illust/detail", illust_id=wid)["illust"]
    r = client.http.post(client.sb.api_url + "/__clock", params={"advance": 7200})
    assert r.status_code == 200
    after = client.json("/v1/illust/detail", illust_id=wid)["illust"]
    client.http.post(client.sb.api_url + "/__clock", params={"advance": -7200})
    assert after["total_bookmarks"] > before["total_bookmarks"] and after["total_view"] > before["total_view"]


def test_webview_novel_parsers(client: Client) -> None:
    world = client.sb.world
    n = next(world.novel(i) for i in range(300, 3000) if not world.novel(i).hidden and not world.novel(i).deleted
             and "}" in world.novel_text(world.novel(i)))
    page = client.get("/webview/v2/novel", id=n.id, viewer_version="20221031_ai")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    html = page.text
    assert "Object.defineProperty(window, 'pixiv', {" in html
    pixivpy = json.loads(re.search(r"novel:\s({.+}),\s+isOwnWork", html).groups()[0])
    start = html.index("novel: ") + len("novel: ")
    gallery_dl = json.loads(html[start: html.index(",\n", start)])
    pixko = json.loads(html.split("novel:")[1].split(",\n")[0])
    assert pixivpy == gallery_dl == pixko
    assert pixivpy["text"] == world.novel_text(n) and pixivpy["id"] == str(n.id)
    for key in ("title", "seriesId", "userId", "coverUrl", "tags", "caption", "cdate", "rating", "marker",
                "illusts", "images", "seriesNavigation", "glossaryItems", "replaceableItemIds", "aiType", "isOriginal"):
        assert key in pixivpy
    assert client.get("/v1/novel/text", novel_id=n.id).status_code == 404


def test_novel_series_and_ranking(client: Client) -> None:
    world = client.sb.world
    n = next(world.novel(i) for i in range(3000) if world.novel(i).series_id)
    items, _pages = follow_all(client, f"/v2/novel/series?series_id={n.series_id}&filter=for_ios", "novels")
    members = [world.novel(i).id for i in world.series_members(n.series_id, True) if not world.novel(i).deleted]
    assert [i["id"] for i in items] == members
    ranked = client.json("/v1/novel/ranking", mode="day", date="2026-10-20")["novels"]
    assert [i["id"] for i in ranked] == world.ranking("day", "2026-10-20", novel=True)[:30]


def test_recommended_next_url_is_long_like_the_capture_and_related_pages_repeat_viewed(client: Client) -> None:
    from urllib.parse import parse_qsl, urlsplit

    first = client.json("/v1/illust/recommended", content_type="illust", include_ranking_label="true", filter="for_ios")
    query = dict(parse_qsl(urlsplit(first["next_url"]).query))
    assert {"min_bookmark_id_for_recent_illust", "max_bookmark_id_for_recommend", "include_privacy_policy", "offset"} <= set(query)
    assert [query[f"viewed[{i}]"] for i in range(len(first["illusts"]))] == [str(i["id"]) for i in first["illusts"]]
    second = client.json(first["next_url"])
    viewed2 = [v for k, v in parse_qsl(urlsplit(second["next_url"]).query) if k.startswith("viewed[")]
    assert viewed2[: len(first["illusts"])] == [str(i["id"]) for i in first["illusts"]]
    assert len(viewed2) == len(first["illusts"]) + len(second["illusts"])

    seed = next(w for w in map(client.sb.world.illust, range(100)) if not (w.deleted or w.hidden))
    page1 = client.json("/v2/illust/related", illust_id=seed.id, filter="for_ios")
    viewed = [v for k, v in parse_qsl(urlsplit(page1["next_url"]).query) if k.startswith("viewed[")]
    page2 = client.json(page1["next_url"])
    assert [str(i["id"]) for i in page2["illusts"][:2]] == viewed[:2]
