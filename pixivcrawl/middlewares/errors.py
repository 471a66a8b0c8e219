"""Downloader middleware: App API errors (rate limits, malformed pages, error bodies) and retry backoff."""

from __future__ import annotations

import asyncio
import codecs
import email.utils
import logging
import time
from typing import TYPE_CHECKING, Self
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.defer import deferred_from_coro

from pixivcrawl import api
from pixivcrawl.escape import printable
from pixivcrawl.hosts import Destination, HostPolicy, Origin
from pixivcrawl.middlewares.auth import own_count
from pixivcrawl.tls import tls_failure

if TYPE_CHECKING:
    from scrapy.core.downloader import Slot
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Stand-in delay for a paused slot that has none, so Scrapy looks at ``lastseen``.
PAUSE_DELAY = 0.001


def is_rate_limit(response: Response, error: dict[str, str] | None) -> bool:
    """Pixiv's rate-limit answer: a 429, or an error body saying "Rate Limit" under any status."""
    if response.status == 429:
        return True
    text = " ".join((error or {}).get(key, "") for key in ("message", "user_message"))
    return "rate limit" in text.lower()


def retry_after(response: Response) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), if any."""
    raw = response.headers.get(b"Retry-After")
    if not raw:
        return None
    value = raw.decode("latin-1").strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_kind(status: int, error: dict[str, str]) -> str:
    """A short name for an App API error body, used in stats and logs."""
    text = " ".join(error.get(key, "") for key in ("message", "user_message")).lower()
    if "oauth" in text:
        return "oauth"
    if status == 404:
        return "not_found"
    if "offset" in text:
        return "offset_limit"
    if "restricted" in text:
        return "restricted"
    if "left pixiv" in text or "does not exist" in text:
        return "user_gone"
    return f"http_{status}"


def as_utf8(response: Response) -> Response:
    """``response`` read strictly as UTF-8 (the App API's only encoding), whatever charset
    its headers claim or a detector would guess; UnicodeDecodeError on an invalid byte.

    A response Scrapy reads the same way is returned as it is; when its declared charset
    is UTF-8 (the usual case) that is known without Scrapy decoding and caching its text:
    callbacks read API pages with ``json()``, from the bytes, and a page's text takes up to
    four times its size, held with the response while its items are processed."""
    text = response.body.decode("utf-8")
    if isinstance(response, TextResponse) and (
        codecs.lookup(response.encoding).name == "utf-8" or response.text == text
    ):
        return response
    return response.replace(cls=type(response) if isinstance(response, TextResponse) else TextResponse,
                            encoding="utf-8")


class PixivApiErrorMiddleware:
    """Handles what the App API answers besides data, so spiders only see good pages.

    - Rate limits (a 429, or an error body saying "Rate Limit" under any status)
      pause the whole download slot of the request (the API slot; images keep
      going on theirs) for ``Retry-After`` seconds, else for
      PIXIV_RATE_LIMIT_BACKOFF doubling per consecutive pause, at most
      PIXIV_RATE_LIMIT_BACKOFF_MAX; then the request is retried, up to
      PIXIV_RATE_LIMIT_RETRIES times (not counted against RETRY_TIMES).
    - API pages (200) are decoded strictly as UTF-8, whatever charset they claim: a
      page with an invalid byte is retried (reason ``undecodable``), then dropped
      with an error (``pixivcrawl/api/undecodable``), never stored garbled.
    - A 200 API page that is not valid JSON is retried (RETRY_TIMES, reason
      ``malformed_json``), then dropped with an error.
    - Other error bodies are counted per kind and logged (escaped) with the endpoint; the
      response goes on (a 404 reaches detail callbacks that allow it).
    - A certificate that does not verify (pixivcrawl.tls) is not retried: the
      crawl stops with one ERROR naming the host (reason ``tls_failed``, exit 1).
    - Requests that RetryMiddleware re-sends (5xx, resets, timeouts, truncated
      bodies) wait PIXIV_RETRY_BACKOFF seconds, doubling per attempt, at most
      PIXIV_RETRY_BACKOFF_MAX.

    It sits between RetryMiddleware (550) and PixivAuthMiddleware (560): its
    responses come after the token was stripped, and before RetryMiddleware sees
    a 429. Settings: PIXIV_API_URL, PIXIV_AUTH_URL, PIXIV_IMAGE_HOSTS and the ones above.
    """

    def __init__(
        self,
        crawler: Crawler,
        *,
        hosts: HostPolicy,
        rate_limit_backoff: float,
        rate_limit_backoff_max: float,
        rate_limit_retries: int,
        retry_backoff: float,
        retry_backoff_max: float,
    ) -> None:
        self.crawler = crawler
        self.hosts = hosts
        self.rate_limit_backoff = rate_limit_backoff
        self.rate_limit_backoff_max = rate_limit_backoff_max
        self.rate_limit_retries = rate_limit_retries
        self.retry_backoff = retry_backoff
        self.retry_backoff_max = retry_backoff_max
        # Per download slot: monotonic time before which nothing is sent, and
        # how many pauses in a row it had (for the exponential backoff).
        self.paused_until: dict[str, float] = {}
        self.strikes: dict[str, int] = {}
        self.tls_failed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        return cls(
            crawler,
            hosts=HostPolicy.from_settings(s),
            rate_limit_backoff=s.getfloat("PIXIV_RATE_LIMIT_BACKOFF"),
            rate_limit_backoff_max=s.getfloat("PIXIV_RATE_LIMIT_BACKOFF_MAX"),
            rate_limit_retries=s.getint("PIXIV_RATE_LIMIT_RETRIES"),
            retry_backoff=s.getfloat("PIXIV_RETRY_BACKOFF"),
            retry_backoff_max=s.getfloat("PIXIV_RETRY_BACKOFF_MAX"),
        )

    def slot_key(self, request: Request) -> str:
        """The download slot a request goes to (the auth middleware sets it only later)."""
        if slot := request.meta.get("download_slot"):
            return str(slot)
        destination = self.hosts.classify(request.url).destination
        if destination is Destination.API:
            return api.API_SLOT
        if destination is Destination.IMAGE:
            return api.IMAGE_SLOT
        return urlsplit(request.url).hostname or ""

    async def process_request(self, request: Request) -> None:
        # Every request of a paused slot waits here, also those that arrive
        # during the pause; the deadline may move while they sleep.
        key = self.slot_key(request)
        while (wait := self.paused_until.get(key, 0.0) - time.monotonic()) > 0:  # noqa: ASYNC110 - a moving deadline
            await asyncio.sleep(wait)
        attempt = request.meta.get("retry_times", 0)
        if attempt > own_count(request, "pixiv_backed_off"):
            request.meta["pixiv_backed_off"] = [request.url, attempt]
            await asyncio.sleep(min(self.retry_backoff * 2 ** (attempt - 1), self.retry_backoff_max))

    def process_response(self, request: Request, response: Response) -> Request | Response:
        # The token endpoint may share the API host (the sandbox does); its
        # errors have their own shape and belong to the auth middleware.
        is_api = not request.meta.get("pixiv_auth_request") and self.hosts.is_api(request.url)
        if is_api and response.status == 200:
            try:
                response = as_utf8(response)
            except UnicodeDecodeError as exc:
                return self._retry_or_drop(request, "undecodable", f"not UTF-8 ({exc.reason} at byte {exc.start})")
        error = api.error_of(response.body) if is_api else None
        if is_rate_limit(response, error):
            return self._rate_limited(request, response)
        self.strikes.pop(self.slot_key(request), None)
        if not is_api:
            return response
        if response.status == 200 and error is None and not self._is_json(response):
            return self._malformed(request, response)
        if error is not None and response.status >= 400:
            self._count_error(request, response, error)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        reason = tls_failure(exception)
        if reason is None:
            return
        self.crawler.stats.inc_value("pixivcrawl/tls/failed")
        if not self.tls_failed:
            self.tls_failed = True
            logger.error(
                "TLS: %s did not verify (%s); nothing was sent to it and the crawl stops "
                "(PIXIV_CA_BUNDLE names the CAs to trust)",
                Origin.of(request.url), reason,
            )
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="tls_failed"))
        raise IgnoreRequest(f"TLS verification failed for {Origin.of(request.url)}")

    def _rate_limited(self, request: Request, response: Response) -> Request:
        stats = self.crawler.stats
        stats.inc_value("pixivcrawl/api/rate_limited")
        key = self.slot_key(request)
        self._pause(key, response)
        tries = own_count(request, "pixiv_rate_limit_retries")
        if tries >= self.rate_limit_retries:
            stats.inc_value("pixivcrawl/api/rate_limit_gave_up")
            logger.error(
                "Gave up on %s: still rate limited after %d retries (PIXIV_RATE_LIMIT_RETRIES)",
                printable(request.url),
                tries,
            )
            raise IgnoreRequest("rate limited")
        # Rate-limit retries have their own budget: they must not use up the
        # RETRY_TIMES that a later 5xx or reset of the same request needs.
        attempt = request.meta.get("retry_times", 0)
        retry = get_retry_request(
            request,
            spider=self.crawler.spider,  # type: ignore[arg-type]
            reason="rate_limited",
            max_retry_times=attempt + 1,
            priority_adjust=0,
        )
        assert retry is not None
        retry.meta["retry_times"] = attempt
        retry.meta["pixiv_rate_limit_retries"] = [request.url, tries + 1]
        return retry

    def _pause(self, key: str, response: Response) -> None:
        now = time.monotonic()
        paused = self.paused_until.get(key, 0.0) > now
        if not paused:
            self.strikes[key] = self.strikes.get(key, 0) + 1
        header = retry_after(response)
        delay = self.rate_limit_backoff * 2 ** (self.strikes[key] - 1) if header is None else header
        delay = min(delay, self.rate_limit_backoff_max)
        until = now + delay
        if until <= self.paused_until.get(key, 0.0):
            return
        self.paused_until[key] = until
        self._hold_downloader_slot(key, until)
        if not paused:
            self.crawler.stats.inc_value("pixivcrawl/api/rate_limit_pauses")
            logger.warning(
                "Pixiv rate limit (HTTP %s on %s): pausing the %s slot for %.1fs",
                response.status,
                printable(urlsplit(response.url).path),
                key,
                delay,
            )

    def _hold_downloader_slot(self, key: str, until: float) -> None:
        # Requests already queued inside Scrapy's slot have passed
        # process_request; pushing the slot's lastseen into the future holds
        # them too (Scrapy waits delay - now + lastseen before the next one).
        engine = self.crawler.engine
        slot: Slot | None = engine.downloader.slots.get(key) if engine else None
        if slot is None:
            return
        slot.lastseen = max(slot.lastseen, until)
        if not slot.delay:
            slot.delay = PAUSE_DELAY
            asyncio.get_running_loop().call_later(until - time.monotonic(), self._release, slot)

    @staticmethod
    def _release(slot: Slot) -> None:
        if slot.delay == PAUSE_DELAY:
            slot.delay = 0.0

    def _is_json(self, response: Response) -> bool:
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
        if "json" not in content_type or not isinstance(response, TextResponse):
            return True  # not a JSON endpoint (e.g. the novel webview's HTML)
        try:
            response.json()  # cached on the response: the callback does not parse it again
        except ValueError:
            return False
        return True

    def _malformed(self, request: Request, response: Response) -> Request:
        return self._retry_or_drop(request, "malformed_json", "malformed JSON")

    def _retry_or_drop(self, request: Request, reason: str, what: str) -> Request:
        """Retry a 200 page that cannot be read (RETRY_TIMES); then drop it (Scrapy logs the give-up)."""
        self.crawler.stats.inc_value(f"pixivcrawl/api/{reason}")
        retry = get_retry_request(
            request,
            spider=self.crawler.spider,  # type: ignore[arg-type]
            reason=reason,
            logger=logger,
        )
        if retry is None:
            self.crawler.stats.inc_value(f"pixivcrawl/api/{reason}/dropped")
            raise IgnoreRequest(f"{what} from {urlsplit(request.url).path}")
        return retry

    def _count_error(self, request: Request, response: Response, error: dict[str, str]) -> None:
        kind = error_kind(response.status, error)
        self.crawler.stats.inc_value(f"pixivcrawl/api/error/{kind}")
        message = error.get("user_message") or error.get("message") or ""
        # A 404 on a detail page is a deleted work, which the spider records.
        level = logging.DEBUG if kind in {"not_found", "oauth"} else logging.WARNING
        logger.log(
            level,
            "Pixiv API error %s (HTTP %s) on %s: %s",
            kind,
            response.status,
            printable(urlsplit(request.url).path),
            printable(message, 200),
        )
