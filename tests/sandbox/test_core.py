"""Core endpoints: OAuth refresh, ranking, illust/user detail, images, stats."""
from __future__ import annotations

import io
import time

import requests
from PIL import Image

from pixivcrawl.sandbox.world import RANKING_MODES

from .conftest import APP_REFERER, Client


def test_refresh_token_response_shape(client: Client) -> None:
    r = client.refresh()
    body = r.json()
    assert r.status_code == 200
    for key in ("access_token", "expires_in", "token_type", "scope", "refresh_token", "user"):
        assert key in body and key in body["response"]
    assert body["expires_in"] == 3600 and body["token_type"] == "bearer" and body["scope"] == ""
    assert body["user"]["id"] == "1" and body["response"]["user"]["id"] == "1"
    assert set(body["user"]["profile_image_urls"]) == {"px_16x16", "px_50x50", "px_170x170"}


def test_bad_refresh_token_and_client(client: Client) -> None:
    r = client.refresh("nope")
    assert r.status_code == 400
    assert r.json() == {"has_error": True, "errors": {"system": {"message": "Invalid refresh token", "code": 1508}},
                        "error": "invalid_grant"}
    r = client.http.post(client.sb.auth_url, data={"client_id": "x", "client_secret": "y",
                                                   "grant_type": "refresh_token", "refresh_token": "z"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_client"


def test_client_hash_checked(client: Client) -> None:
    import hashlib

    from pixivcrawl.sandbox.oauth import CLIENT_ID, CLIENT_SECRET, HASH_SECRET
    form = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "refresh_token",
            "refresh_token": client.sb.config.refresh_token}
    t = "2026-01-01T00:00:00+00:00"
    good = hashlib.md5((t + HASH_SECRET).encode()).hexdigest()
    assert client.http.post(client.sb.auth_url, data=form, headers={"X-Client-Time": t, "X-Client-Hash": good}).ok
    bad = client.http.post(client.sb.auth_url, data=form, headers={"X-Client-Time": t, "X-Client-Hash": "0" * 32})
    assert bad.status_code == 400 and bad.json()["has_error"] is True


def test_missing_and_bad_bearer(client: Client) -> None:
    r = client.get("/v1/illust/ranking", auth=False)
    assert r.status_code == 400
    assert r.json()["error"]["message"].endswith("Error Message: invalid_request")
    client.token = "bogus"
    r = client.get("/v1/illust/ranking")
    assert r.status_code == 400 and r.json()["error"]["message"].endswith("Error Message: invalid_grant")


def test_access_token_expires(make_sandbox) -> None:  # type: ignore[no-untyped-def]
    _sb, c = make_sandbox(token_lifetime=1)
    c.refresh()
    assert c.get("/v1/illust/ranking").status_code == 200
    time.sleep(1.1)
    r = c.get("/v1/illust/ranking")
    assert r.status_code == 400
    assert r.json() == {"error": {"user_message": "", "message": "Error occurred at the OAuth process. Please check "
                                  "your Access Token to fix this. Error Message: invalid_grant", "reason": "",
                                  "user_message_details": {}}}
    c.refresh()
    assert c.get("/v1/illust/ranking").status_code == 200
    assert c.stats()["token_refreshes"] == 2


def test_ranking_pages_match_world(client: Client) -> None:
    world = client.sb.world
    expected = world.ranking("day", "2026-10-20")
    assert len(expected) == 100
    got, url, pages = [], "/v1/illust/ranking?mode=day&date=2026-10-20&filter=for_ios", 0
    while url:
        body = client.json(url)
        got += [i["id"] for i in body["illusts"]]
        url = body["next_url"]
        pages += 1
        if url:
            assert url.startswith(client.sb.api_url + "/v1/illust/ranking?")
            assert "mode=day" in url and "date=2026-10-20" in url and "filter=for_ios" in url
    assert got == expected and pages == 4


def test_ranking_mix_of_kinds(client: Client) -> None:
    world = client.sb.world
    works = [world.illust_by_id(i) for i in world.ranking("day", "2026-10-20")]
    assert not any(w.deleted for w in works)
    assert any(w.hidden for w in works)
    assert any(w.type == "ugoira" for w in works) and any(w.type == "manga" for w in works)
    assert any(w.pages > 1 for w in works)
    assert all(w.x_restrict == 0 for w in works)
    for mode, want in (("day_r18", 1), ("week_r18g", 2)):
        assert {world.illust_by_id(i).x_restrict for i in world.ranking(mode, "2026-10-20")} == {want}
    assert {world.illust_by_id(i).ai_type for i in world.ranking("day_ai", "2026-10-20")} == {2}
    assert {world.illust_by_id(i).type for i in world.ranking("week_manga", "2026-10-20")} == {"manga"}


def test_every_ranking_mode_and_bad_mode(client: Client) -> None:
    for mode in RANKING_MODES:
        assert client.json("/v1/illust/ranking", mode=mode, date="2026-10-01")["illusts"], mode
    r = client.get("/v1/illust/ranking", mode="daily")
    assert r.status_code == 400 and "error" in r.json()


def test_detail_shapes(client: Client) -> None:
    world = client.sb.world
    ids = world.ranking("day", "2026-10-20")
    multi = next(i for i in ids if world.illust_by_id(i).pages > 1 and not world.illust_by_id(i).hidden)
    ill = client.json("/v1/illust/detail", illust_id=multi)["illust"]
    assert ill["meta_single_page"] == {} and len(ill["meta_pages"]) == ill["page_count"]
    assert ill["meta_pages"][0]["image_urls"]["original"].startswith(client.sb.image_url + "/img-original/img/")
    assert "total_comments" in ill and ill["visible"] is True and "original" not in ill["image_urls"]
    hidden = next(i for i in ids if world.illust_by_id(i).hidden)
    h = client.json("/v1/illust/detail", illust_id=hidden)["illust"]
    assert (h["visible"], h["width"], h["height"], h["title"], h["tags"], h["total_view"]) == (False, 100, 100, "", [], 0)
    assert "/common/images/limit_" in h["meta_single_page"]["original_image_url"]
    assert h["user"]["name"] == "" and "is_followed" not in h["user"]


def test_deleted_illust_404(client: Client) -> None:
    world = client.sb.world
    deleted = next(world.illust(i).id for i in range(1000) if world.illust(i).deleted)
    r = client.get("/v1/illust/detail", illust_id=deleted)
    assert r.status_code == 404
    assert r.json() == {"error": {"user_message": "Work has been deleted or the ID does not exist.", "message": "",
                                  "reason": "", "user_message_details": {}}}
    assert client.get("/v1/illust/detail", illust_id=5).status_code == 404


def test_user_detail(client: Client) -> None:
    body = client.json("/v1/user/detail", user_id=1, filter="for_ios")
    assert set(body) == {"user", "profile", "profile_publicity", "workspace"}
    assert body["user"]["id"] == 1 and body["profile"]["total_follow_users"] == 120
    r = client.get("/v1/user/detail", user_id=10**9)
    assert r.status_code == 404 and r.json()["error"]["user_message"].startswith("User has left pixiv")


def test_images_referer_head_and_counters(client: Client) -> None:
    world = client.sb.world
    wid = world.ranking("day", "2026-10-20")[0]
    ill = client.json("/v1/illust/detail", illust_id=wid)["illust"]
    url = ill["meta_single_page"].get("original_image_url") or ill["meta_pages"][0]["image_urls"]["original"]
    before = client.stats()
    r = requests.get(url, headers=APP_REFERER)
    assert r.status_code == 200 and r.headers["Content-Length"] == str(len(r.content))
    Image.open(io.BytesIO(r.content)).verify()
    assert r.headers["Content-Type"] == ("image/png" if url.endswith(".png") else "image/jpeg")
    assert requests.get(url, headers={"Referer": "https://www.pixiv.net/"}).status_code == 200
    assert requests.get(url).status_code == 403
    h = requests.head(url, headers=APP_REFERER)
    assert h.status_code == 200 and h.headers["Content-Length"] == str(len(r.content)) and not h.content
    assert requests.get(url, headers={**APP_REFERER, "Authorization": "Bearer x"}).status_code == 200
    for key in ("medium", "large", "square_medium"):
        assert requests.get(ill["image_urls"][key], headers=APP_REFERER).status_code == 200
    ph = client.sb.image_url + "/common/images/limit_sanity_level_360.png"
    assert requests.get(ph, headers=APP_REFERER).status_code == 200
    after = client.stats()
    assert after["image_requests"] - before["image_requests"] == 9
    assert after["image_403"] - before["image_403"] == 1
    assert after["image_auth_headers"] - before["image_auth_headers"] == 1
    assert after["placeholder_fetches"] - before["placeholder_fetches"] == 1


def test_hosts_are_separate(client: Client) -> None:
    assert requests.get(client.sb.image_url + "/v1/illust/ranking", headers=APP_REFERER).status_code == 404
    r = client.get("/img-original/img/2026/10/31/23/55/25/120999995_p0.png")
    assert r.status_code == 404 and r.json()["error"]["user_message"] == "Specified end-point doesn't exist"


def test_stats_counts_and_reset(client: Client) -> None:
    client.http.post(client.sb.api_url + "/__stats/reset")
    client.json("/v1/illust/ranking", mode="day")
    client.get("/v1/illust/ranking", auth=False)
    s = client.stats()
    assert s["requests_total"] == 2 and s["by_route"] == {"/v1/illust/ranking": 2}
    assert s["by_status"] == {"200": 1, "400": 1} and s["auth_failures"] == 1


def test_image_padding_and_latency(make_sandbox) -> None:  # type: ignore[no-untyped-def]
    sb, c = make_sandbox(image_bytes_min=60_000, latency_api=150, image_width=32, image_height=48)
    c.refresh()
    t = time.monotonic()
    wid = sb.world.ranking("day", "2026-10-20")[0]
    ill = c.json("/v1/illust/detail", illust_id=wid)["illust"]
    assert time.monotonic() - t >= 0.15
    url = ill["meta_single_page"].get("original_image_url") or ill["meta_pages"][0]["image_urls"]["original"]
    r = requests.get(url, headers=APP_REFERER)
    assert len(r.content) >= 60_000
    img = Image.open(io.BytesIO(r.content))
    assert img.size == (32, 48)
    img.load()


def test_accept_language_picks_translation(client: Client) -> None:
    wid = next(i for i in client.sb.world.ranking("day", "2026-10-20") if not client.sb.world.illust_by_id(i).hidden)
    tags = {}
    for lang in ("en", "zh-CN", "ja"):
        r = client.http.get(client.sb.api_url + "/v1/illust/detail", params={"illust_id": wid},
                            headers={"Authorization": f"Bearer {client.token}", "Accept-Language": lang})
        tags[lang] = [t["translated_name"] for t in r.json()["illust"]["tags"]]
    assert tags["ja"] == [None] * len(tags["ja"]) and tags["en"] != tags["zh-CN"]
    r = client.http.get(client.sb.api_url + "/nope", headers={"Accept-Language": "ja"})
    assert r.json()["error"]["user_message"] == "指定されたエンドポイントは存在しません"
