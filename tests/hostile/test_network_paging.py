"""Loop guard (a repeated next_url, PIXIV_MAX_PAGES), strict UTF-8 API pages, and server text escaped in logs."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from scrapy.utils.defer import deferred_f_from_coro_f

from tests.crawl import Archive
from tests.hostile.network_server import Answer, Seen, crawl_with, hostile_settings, listing, token_answer

DATE = "2026-10-30"
RANKING = "/v1/illust/ranking"
SAMPLE = json.loads((Path(__file__).parent.parent / "samples" / "illust_multi.json").read_text())


def api_of(pages):
    """A handler: the token endpoint, and ``pages(seen)`` for everything else."""
    def answer(seen: Seen) -> Answer:
        return token_answer(seen) if seen.path == "/auth/token" else pages(seen)
    return answer


@deferred_f_from_coro_f
async def test_a_listing_without_end_stops_at_pixiv_max_pages(hostile, tmp_path, caplog) -> None:
    def endless(seen: Seen) -> Answer:
        page = int(parse_qs(urlsplit(seen.target).query).get("p", ["1"])[0])
        return listing(next_url=api.url(f"{RANKING}?mode=day&date={DATE}&p={page + 1}"))

    api = hostile()
    api.handler = api_of(endless)
    crawler = await crawl_with(hostile_settings(tmp_path, api.url(), PIXIV_MAX_PAGES=7), date=DATE)
    assert crawler.stats.get_value("finish_reason") == "finished"
    assert len([s for s in api.requests if s.path == RANKING]) == 7
    assert crawler.stats.get_value("pixivcrawl/paging/max_pages") == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("stops at page 7: it passed PIXIV_MAX_PAGES=7 pages" in w for w in warnings)


@deferred_f_from_coro_f
async def test_a_listing_that_repeats_a_next_url_stops(hostile, tmp_path, caplog) -> None:
    def cycle(seen: Seen) -> Answer:  # page a -> b -> a -> ...
        to = "b" if "p=a" in seen.target or "p=" not in seen.target else "a"
        return listing(next_url=api.url(f"{RANKING}?mode=day&date={DATE}&p={to}"))

    api = hostile()
    api.handler = api_of(cycle)
    crawler = await crawl_with(hostile_settings(tmp_path, api.url()), date=DATE)
    assert crawler.stats.get_value("finish_reason") == "finished"
    assert crawler.stats.get_value("pixivcrawl/paging/loop") == 1
    assert len([s for s in api.requests if s.path == RANKING]) == 3  # first, a, b; then a again is refused
    assert "repeats a page it already went through" in caplog.text


@deferred_f_from_coro_f
async def test_a_relative_next_url_joins_the_page_url_not_an_html_base_in_a_caption(hostile, tmp_path) -> None:
    # Captions are HTML: a <base> in one must not move the listing to another host.
    illust = json.loads(json.dumps(SAMPLE))
    illust["caption"] = "<base href='http://elsewhere.invalid/'>"

    def pages(seen: Seen) -> Answer:
        if "p=2" in seen.target:
            return listing()
        return listing([illust], next_url=f"{RANKING}?mode=day&date={DATE}&p=2")

    api = hostile(api_of(pages))
    crawler = await crawl_with(hostile_settings(tmp_path, api.url(), PIXIV_DOWNLOAD_FILES=False), date=DATE)
    assert [s.target for s in api.requests if s.path == RANKING][1:] == [f"{RANKING}?mode=day&date={DATE}&p=2"]
    assert not crawler.stats.get_value("pixivcrawl/paging/refused_next_url")


def japanese_page(title: str) -> dict:
    illust = json.loads(json.dumps(SAMPLE))
    illust["title"] = title
    return {"illusts": [illust], "next_url": None}


@deferred_f_from_coro_f
async def test_an_undecodable_page_is_retried_then_counted_never_stored_garbled(hostile, tmp_path) -> None:
    bad = json.dumps(japanese_page("夏の海"), ensure_ascii=False).encode().replace("夏".encode(), b"\xff\xfe\xfd")
    api = hostile(api_of(lambda seen: Answer(200, bad, {"Content-Type": "application/json"})))
    crawler = await crawl_with(hostile_settings(tmp_path, api.url(), PIXIV_DOWNLOAD_FILES=False, RETRY_TIMES=2), date=DATE)
    assert len([s for s in api.requests if s.path == RANKING]) == 3  # first try and 2 retries
    assert crawler.stats.get_value("pixivcrawl/api/undecodable") == 3
    assert crawler.stats.get_value("pixivcrawl/api/undecodable/dropped") == 1
    assert Archive(tmp_path).count("illusts") == 0


@deferred_f_from_coro_f
async def test_utf8_is_read_as_utf8_whatever_the_charset_says(hostile, tmp_path) -> None:
    body = json.dumps(japanese_page("夏の海"), ensure_ascii=False).encode()
    api = hostile(api_of(lambda seen: Answer(200, body, {"Content-Type": "application/json; charset=iso-8859-1"})))
    await crawl_with(hostile_settings(tmp_path, api.url(), PIXIV_DOWNLOAD_FILES=False), date=DATE)
    assert Archive(tmp_path).query("SELECT title FROM illusts") == [("夏の海",)]


@deferred_f_from_coro_f
async def test_server_text_is_escaped_before_it_is_logged(hostile, tmp_path, caplog) -> None:
    forged = "Not found\n2026-01-01 [pixivcrawl] INFO: all good\x1b[2J\u202e"
    api = hostile(api_of(lambda seen: Answer(400, {"error": {"message": forged, "user_message": forged}})))
    auth_error = {"has_error": True, "errors": {"system": {"message": forged}}}
    auth = hostile(lambda seen: Answer(400, auth_error))
    with caplog.at_level(logging.DEBUG):
        await crawl_with(hostile_settings(tmp_path, api.url(), PIXIV_DOWNLOAD_FILES=False), date=DATE)
        await crawl_with(hostile_settings(tmp_path, api.url(), auth_url=auth.url("/auth/token"),
                                          PIXIV_DOWNLOAD_FILES=False), date=DATE)
    messages = [r.getMessage() for r in caplog.records]
    shown = [m for m in messages if "Not found" in m]
    assert any("Pixiv API error" in m for m in shown) and any("Login failed" in m for m in shown)
    for message in shown:
        assert "\n" not in message and "\x1b" not in message and "\u202e" not in message
        assert "Not found\\n2026-01-01" in message and "\\x1b[2J" in message
