"""API errors and faults: rate-limit pauses, malformed pages, error bodies, and a fault matrix end to end."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Request
from scrapy.core.downloader import Slot
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.settings import Settings
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from pixivcrawl import api
from pixivcrawl.middlewares import PixivApiErrorMiddleware
from pixivcrawl.middlewares.errors import error_kind, retry_after
from pixivcrawl.spiders.base import Arg, PixivSpider, is_deleted
from pixivcrawl.spiders.ranking import RankingSpider
from tests.crawl import Archive, RunningSandbox, crawl, file_hashes, reference_archive, snapshot

API = "https://api.test"
IMAGES = "img.test:8080"
RATE_LIMIT_BODY = {"error": {"user_message": "", "message": "Rate Limit", "reason": "", "user_message_details": {}}}


# --- the middleware, unit by unit ------------------------------------------------------------------

def make_mw(**settings: Any) -> tuple[PixivApiErrorMiddleware, Any]:
    values = {"PIXIV_API_URL": API, "PIXIV_IMAGE_HOSTS": [IMAGES], "PIXIV_RATE_LIMIT_BACKOFF": 0.2,
              "PIXIV_RATE_LIMIT_BACKOFF_MAX": 1.0, "PIXIV_RATE_LIMIT_RETRIES": 3, "PIXIV_RETRY_BACKOFF": 0.05,
              "PIXIV_RETRY_BACKOFF_MAX": 0.1, "RETRY_TIMES": 2, **settings}
    crawler = get_crawler(RankingSpider, values)
    crawler.spider = crawler._create_spider()
    crawler.engine = SimpleNamespace(downloader=SimpleNamespace(slots={}))
    return build_from_crawler(PixivApiErrorMiddleware, crawler), crawler


def api_request(path: str = "/v1/illust/ranking?mode=day") -> Request:
    return Request(f"{API}{path}", meta={"download_slot": api.API_SLOT})


def json_response(request: Request, status: int, body: Any, headers: dict[str, str] | None = None) -> TextResponse:
    return TextResponse(request.url, status=status, body=json.dumps(body).encode(), request=request,
                        headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})


def test_the_error_middleware_sits_between_retry_and_auth() -> None:
    settings = Settings()
    settings.setmodule("pixivcrawl.settings")
    order = settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert 550 < order["pixivcrawl.middlewares.PixivApiErrorMiddleware"] < order["pixivcrawl.middlewares.PixivAuthMiddleware"]
    # Rate limits are the error middleware's: RetryMiddleware must not re-send a 429 at once.
    assert 429 not in settings.getlist("RETRY_HTTP_CODES")
    assert settings.getbool("DOWNLOAD_FAIL_ON_DATALOSS")


@pytest.mark.parametrize("status", [403, 400, 200])
def test_a_rate_limit_body_under_any_status_is_retried_after_a_pause(status: int, caplog) -> None:
    mw, crawler = make_mw()
    request = api_request()
    request.meta["retry_times"] = 1
    with caplog.at_level(logging.WARNING):
        retry = mw.process_response(request, json_response(request, status, RATE_LIMIT_BODY))
    assert isinstance(retry, Request)
    assert retry.url == request.url and retry.dont_filter
    assert retry.meta["pixiv_rate_limit_retries"] == [request.url, 1]
    assert retry.meta["retry_times"] == 1  # RETRY_TIMES stays for real faults
    assert crawler.stats.get_value("pixivcrawl/api/rate_limited") == 1
    assert crawler.stats.get_value("retry/reason_count/rate_limited") == 1
    assert mw.paused_until[api.API_SLOT] - time.monotonic() == pytest.approx(0.2, abs=0.05)
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "/v1/illust/ranking" in caplog.text and "pausing the pixiv-api slot" in caplog.text


def test_a_429_honours_retry_after_up_to_the_cap() -> None:
    mw, _ = make_mw(PIXIV_RATE_LIMIT_BACKOFF_MAX=5.0)
    request = api_request()
    mw.process_response(request, TextResponse(request.url, status=429, body=b"Too Many Requests",
                                              headers={"Retry-After": "3"}, request=request))
    assert mw.paused_until[api.API_SLOT] - time.monotonic() == pytest.approx(3, abs=0.1)
    request = api_request("/v1/illust/detail?illust_id=1")
    mw.paused_until.clear()
    mw.process_response(request, TextResponse(request.url, status=429, body=b"",
                                              headers={"Retry-After": "3600"}, request=request))
    assert mw.paused_until[api.API_SLOT] - time.monotonic() == pytest.approx(5, abs=0.1)


def test_retry_after_parses_seconds_and_http_dates() -> None:
    request = api_request()
    assert retry_after(TextResponse(request.url, headers={"Retry-After": "7"})) == 7
    assert retry_after(TextResponse(request.url, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0
    assert retry_after(TextResponse(request.url, headers={"Retry-After": "soon"})) is None
    assert retry_after(TextResponse(request.url)) is None


def test_backoff_doubles_per_pause_in_a_row_and_one_warning_per_pause(caplog) -> None:
    mw, crawler = make_mw(PIXIV_RATE_LIMIT_BACKOFF=1.0, PIXIV_RATE_LIMIT_BACKOFF_MAX=3.0)
    waits = []
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            request = api_request()
            # Two in-flight requests answered during the same pause: one pause, one warning.
            mw.process_response(request, json_response(request, 403, RATE_LIMIT_BODY))
            mw.process_response(request, json_response(request, 403, RATE_LIMIT_BODY))
            waits.append(round(mw.paused_until[api.API_SLOT] - time.monotonic()))
            mw.paused_until[api.API_SLOT] = 0.0  # the pause is over
    assert waits == [1, 2, 3]
    assert len(caplog.records) == 3
    assert crawler.stats.get_value("pixivcrawl/api/rate_limit_pauses") == 3
    # A good answer ends the streak.
    request = api_request()
    mw.process_response(request, json_response(request, 200, {"illusts": []}))
    mw.process_response(request, json_response(request, 403, RATE_LIMIT_BODY))
    assert round(mw.paused_until[api.API_SLOT] - time.monotonic()) == 1


def test_rate_limit_retries_give_up_with_an_error() -> None:
    mw, crawler = make_mw(PIXIV_RATE_LIMIT_RETRIES=2)
    request = api_request()
    for _ in range(2):
        request = mw.process_response(request, json_response(request, 403, RATE_LIMIT_BODY))
        assert isinstance(request, Request)
    with pytest.raises(IgnoreRequest):
        mw.process_response(request, json_response(request, 403, RATE_LIMIT_BODY))
    assert crawler.stats.get_value("pixivcrawl/api/rate_limit_gave_up") == 1


@deferred_f_from_coro_f
async def test_a_paused_api_slot_holds_every_api_request_but_not_images() -> None:
    mw, _ = make_mw(PIXIV_RATE_LIMIT_BACKOFF=0.3)
    request = api_request()
    mw.process_response(request, json_response(request, 403, RATE_LIMIT_BODY))
    started = time.monotonic()
    done: dict[str, float] = {}

    async def send(name: str, req: Request) -> None:
        await mw.process_request(req)
        done[name] = time.monotonic() - started

    # Fresh API requests carry no slot yet (the auth middleware sets it later).
    await asyncio.gather(
        send("image", Request(f"https://{IMAGES}/img-original/1_p0.png")),
        send("api1", Request(f"{API}/v1/illust/detail?illust_id=1")),
        send("api2", api_request("/v1/illust/detail?illust_id=2")),
    )
    assert done["image"] < 0.05
    assert done["api1"] >= 0.25 and done["api2"] >= 0.25


@deferred_f_from_coro_f
async def test_requests_already_queued_in_scrapys_slot_are_held_too() -> None:
    mw, crawler = make_mw(PIXIV_RATE_LIMIT_BACKOFF=0.2)
    slot = Slot(concurrency=4, delay=0.0, jitter=0.0)
    crawler.engine.downloader.slots[api.API_SLOT] = slot
    request = api_request()
    mw.process_response(request, json_response(request, 403, RATE_LIMIT_BODY))
    # Scrapy waits ``delay - now + lastseen`` before the next request of a slot with a delay.
    assert slot.delay > 0
    assert slot.lastseen == pytest.approx(time.monotonic() + 0.2, abs=0.05)
    await asyncio.sleep(0.25)
    assert slot.delay == 0.0  # a slot without delay gets it back after the pause


@deferred_f_from_coro_f
async def test_an_image_429_pauses_only_the_image_slot() -> None:
    mw, _ = make_mw()
    image = Request(f"https://{IMAGES}/img-original/1_p0.png", meta={"download_slot": api.IMAGE_SLOT})
    retry = mw.process_response(image, TextResponse(image.url, status=429, headers={"Retry-After": "1"}))
    assert isinstance(retry, Request)
    assert api.IMAGE_SLOT in mw.paused_until and api.API_SLOT not in mw.paused_until
    started = time.monotonic()
    await mw.process_request(api_request())
    assert time.monotonic() - started < 0.05


@deferred_f_from_coro_f
async def test_retried_requests_back_off_exponentially_once_per_attempt() -> None:
    mw, _ = make_mw(PIXIV_RETRY_BACKOFF=0.05, PIXIV_RETRY_BACKOFF_MAX=0.1)
    timings = []
    for attempt in (1, 2, 3):
        request = api_request()
        request.meta["retry_times"] = attempt
        started = time.monotonic()
        await mw.process_request(request)
        timings.append(time.monotonic() - started)
        # Sent again at the same attempt (after a token refresh): no second wait.
        started = time.monotonic()
        await mw.process_request(request)
        assert time.monotonic() - started < 0.02
    assert timings[0] == pytest.approx(0.05, abs=0.03)
    assert timings[1] == pytest.approx(0.1, abs=0.03)
    assert timings[2] == pytest.approx(0.1, abs=0.03)  # capped


def test_malformed_json_is_retried_then_dropped_and_counted(caplog) -> None:
    mw, crawler = make_mw(RETRY_TIMES=2)
    request = api_request()
    broken = b'{"illusts": [{"id": 1, "title": "<br />\n<b>Fatal error</b>'
    for _ in range(2):
        response = TextResponse(request.url, status=200, body=broken, request=request,
                                headers={"Content-Type": "application/json"})
        request = mw.process_response(request, response)
        assert isinstance(request, Request)
    with caplog.at_level(logging.ERROR), pytest.raises(IgnoreRequest):
        mw.process_response(request, TextResponse(request.url, status=200, body=broken, request=request,
                                                  headers={"Content-Type": "application/json"}))
    assert crawler.stats.get_value("pixivcrawl/api/malformed_json") == 3
    assert crawler.stats.get_value("retry/reason_count/malformed_json") == 2
    assert "Gave up retrying" in caplog.text and "malformed_json" in caplog.text


def test_good_json_and_html_pages_pass_untouched() -> None:
    mw, crawler = make_mw()
    request = api_request()
    good = json_response(request, 200, {"illusts": []})
    assert mw.process_response(request, good) is good
    assert good.json() == {"illusts": []}
    page = HtmlResponse(f"{API}/webview/v2/novel?id=1", body=b"<html>novel</html>",
                        headers={"Content-Type": "text/html"})
    assert mw.process_response(Request(page.url), page) is page
    assert crawler.stats.get_value("pixivcrawl/api/malformed_json") is None


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        (404, "Work has been deleted or the ID does not exist.", "not_found"),
        (400, '{"offset":["offset must be no more than 5000"]}', "offset_limit"),
        (403, "Your access is currently restricted.", "restricted"),
        (400, "Something new", "http_400"),
    ],
)
def test_error_bodies_are_counted_by_kind_and_logged_with_the_endpoint(status, message, kind, caplog) -> None:
    mw, crawler = make_mw()
    request = api_request("/v1/illust/detail?illust_id=5")
    response = json_response(request, status, {"error": {"user_message": message, "message": "", "reason": ""}})
    with caplog.at_level(logging.DEBUG, logger="pixivcrawl.middlewares.errors"):
        assert mw.process_response(request, response) is response
    assert crawler.stats.get_value(f"pixivcrawl/api/error/{kind}") == 1
    assert "/v1/illust/detail" in caplog.text and kind in caplog.text
    assert error_kind(status, {"user_message": message}) == kind


def test_token_endpoint_errors_are_left_to_the_auth_middleware() -> None:
    mw, crawler = make_mw()
    request = Request(f"{API}/auth/token", method="POST", meta={"pixiv_auth_request": True})
    body = {"has_error": True, "errors": {"system": {"message": "Invalid refresh token"}}, "error": "invalid_grant"}
    response = json_response(request, 400, body)
    assert mw.process_response(request, response) is response
    assert not any(k.startswith("pixivcrawl/") for k in crawler.stats.get_stats())


def test_is_deleted_needs_a_404_with_an_error_body() -> None:
    url = f"{API}/v1/illust/detail?illust_id=5"
    body = json.dumps({"error": {"user_message": "Work has been deleted or the ID does not exist."}}).encode()
    assert is_deleted(TextResponse(url, status=404, body=body))
    assert not is_deleted(TextResponse(url, status=404, body=b"<html>not found</html>"))
    assert not is_deleted(TextResponse(url, status=200, body=b"{}"))


def test_detail_requests_let_404_through_and_deleted_work_items_name_the_kind() -> None:
    _, crawler = make_mw()
    spider = crawler.spider
    request = spider.detail_request(api.ILLUST_DETAIL, {"illust_id": 5}, spider.start_listings)
    assert request.meta["handle_httpstatus_list"] == [404]
    item = spider.deleted_work("illust", 5)
    assert (item.kind, item.data) == ("illust_deleted", {"id": 5})


# --- the fault matrix: every sandbox fault, same archive as a clean run -----------------------------

DATE = "2026-10-30"
WORLD = {"ranking_size": 40, "page_size": 4, "fault_seed": 7}

FAULTS = {
    "rate_limit_403": {"fault_rate_limit": 0.4},
    "429_retry_after": {"fault_429": 0.3},
    "5xx": {"fault_5xx": 0.3},
    "reset": {"fault_reset": 0.3},
    "truncated": {"fault_truncate": 0.3},
    "malformed_json": {"fault_malformed": 0.4},
    "token_expiry": {"fault_token_expiry": 0.4, "token_lifetime": 2, "latency_api": 50},
    "rate_limit_window": {"rate_limit": 3, "rate_limit_window": 0.5, "rate_limit_style": "429"},
}




@pytest.mark.slow
@pytest.mark.parametrize("fault", list(FAULTS))
@deferred_f_from_coro_f
async def test_a_crawl_under_faults_archives_exactly_what_a_clean_crawl_does(fault, tmp_path_factory, make_sandbox,
                                                                           archive):
    rows, files = await reference_archive(WORLD, DATE, tmp_path_factory)
    sandbox = make_sandbox(**WORLD, **FAULTS[fault])
    crawler = await crawl(RankingSpider, sandbox, archive, date=DATE)
    stats = crawler.stats.get_stats()
    assert stats["finish_reason"] == "finished"
    served = sandbox.stats()
    injected = sum(served["faults"].values()) + served["rate_limited"]
    assert injected >= 5, served
    got = snapshot(archive.db_path)
    for table in rows:
        assert got[table] == rows[table], table
    assert file_hashes(archive.files) == files
    assert not [p for p in archive.files.rglob("*") if p.is_file() and p.name.startswith(".")]
    assert stats.get("log_count/ERROR", 0) == 0
    if fault == "malformed_json":
        assert stats["pixivcrawl/api/malformed_json"] > 0
    if fault == "token_expiry":
        assert stats["pixivcrawl/auth/token_rejected"] > 0 and "pixivcrawl/api/error/oauth" not in stats
    if fault in {"rate_limit_403", "429_retry_after", "rate_limit_window"}:
        assert stats["pixivcrawl/api/rate_limited"] > 0


# --- deleted works end to end ---------------------------------------------------------------------

class DetailSpider(PixivSpider):
    """Illust details by id, recording deleted ones (what the illust spider does, in small)."""

    name = "test_detail"
    arguments = {"ids": Arg("comma list of illust ids")}

    def start_listings(self) -> Iterator[Request]:
        for illust_id in self.args["ids"].split(","):
            yield self.detail_request(api.ILLUST_DETAIL, {"illust_id": illust_id}, self.parse_detail,
                                      illust_id=int(illust_id))

    def parse_detail(self, response: Response, illust_id: int) -> Iterator[Any]:
        if is_deleted(response):
            yield self.deleted_work("illust", illust_id)
            return
        yield from self.illust_objects([response.json()["illust"]])


@deferred_f_from_coro_f
async def test_a_deleted_work_is_archived_as_deleted_and_the_crawl_goes_on(sandbox: RunningSandbox, archive: Archive):
    world = sandbox.server.world
    deleted = next(world.illust(i).id for i in range(10_000) if world.illust(i).deleted)
    alive = next(world.illust(i).id for i in range(10_000) if not world.illust(i).deleted and not world.illust(i).hidden)
    crawler = await crawl(DetailSpider, sandbox, archive, settings={"PIXIV_DOWNLOAD_FILES": False},
                              ids=f"{deleted},{alive}")
    stats = crawler.stats.get_stats()
    assert stats["finish_reason"] == "finished"
    assert stats["pixivcrawl/api/error/not_found"] == 1
    assert dict(archive.query("SELECT id, status FROM illusts")) == {deleted: "deleted", alive: "available"}
    assert stats.get("log_count/ERROR", 0) == 0
