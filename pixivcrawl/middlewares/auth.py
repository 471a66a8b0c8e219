"""Downloader middleware: app headers and the Bearer token on API calls, Referer on images.

Settings: PIXIV_API_URL, PIXIV_AUTH_URL, PIXIV_REFRESH_TOKEN, PIXIV_TOKEN_FILE,
PIXIV_TOKEN_REFRESH_MARGIN, PIXIV_LANGUAGE, PIXIV_IMAGE_HOSTS (the host policy, :mod:`pixivcrawl.hosts`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Self

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro

from pixivcrawl import api
from pixivcrawl.auth import TokenManager
from pixivcrawl.escape import printable
from pixivcrawl.exceptions import AuthError
from pixivcrawl.hosts import Destination, HostPolicy
from pixivcrawl.workers.keys import redis_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from pixivcrawl.workers.tokens import SharedTokens

logger = logging.getLogger(__name__)

#: How often one request may be re-sent after Pixiv rejected its access token.
MAX_TOKEN_RETRIES = 3


def own_count(request: Request, key: str) -> int:
    """A per-request counter kept in meta as ``[url, n]``.

    The URL guards against a spider that builds its next page from
    ``response.meta``: a copied counter belongs to another URL and reads as 0.
    """
    value = request.meta.get(key)
    if isinstance(value, list) and len(value) == 2 and value[0] == request.url:
        return int(value[1])
    return 0


class PixivAuthMiddleware:
    """Authenticates API calls and keeps the token away from everything else.

    Where a request may go is the host policy's (:class:`~pixivcrawl.hosts.HostPolicy`):

    - API origin: app headers, ``Accept-Language`` and ``Authorization: Bearer``,
      added at send time (never stored in queued requests or JOBDIR); the request
      goes to the API download slot. An OAuth error body invalidates the token,
      and the request is sent again after one refresh.
    - Image origins (PIXIV_IMAGE_HOSTS): ``Referer``, no Authorization, the image slot.
    - The token endpoint: only the refresh request itself, which follows no redirect.
    - Anything else is refused and counted: another host
      (``pixivcrawl/requests/refused_host``), a scheme other than https, or plain
      http to a non-loopback host (``pixivcrawl/requests/refused_scheme``).

    A refused refresh token closes the spider with reason ``pixiv_auth_failed``.
    """

    def __init__(
        self,
        crawler: Crawler,
        *,
        api_url: str,
        auth_url: str,
        refresh_token: str,
        token_file: str,
        margin: float,
        language: str,
        image_hosts: list[str],
        shared_tokens: SharedTokens | None = None,
    ) -> None:
        self.crawler = crawler
        self.hosts = HostPolicy(api_url=api_url, auth_url=auth_url, image_hosts=image_hosts)
        self.language = language
        self.tokens = TokenManager(
            auth_url=auth_url,
            refresh_token=refresh_token,
            token_file=token_file,
            margin=margin,
            fetch=self._fetch,
            shared=shared_tokens,
        )
        self._failed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        mw = cls(
            crawler,
            api_url=s["PIXIV_API_URL"],
            auth_url=s["PIXIV_AUTH_URL"],
            refresh_token=s["PIXIV_REFRESH_TOKEN"],
            token_file=s["PIXIV_TOKEN_FILE"],
            margin=s.getfloat("PIXIV_TOKEN_REFRESH_MARGIN"),
            language=s["PIXIV_LANGUAGE"],
            image_hosts=s.getlist("PIXIV_IMAGE_HOSTS"),
            shared_tokens=shared_tokens(crawler),
        )
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        return mw

    def spider_opened(self) -> None:
        # Spiders reach the account (e.g. the logged-in user id) through here.
        self.crawler.spider.tokens = self.tokens  # type: ignore[union-attr]

    async def _fetch(self, request: Request) -> Response:
        return await self.crawler.engine.download_async(request)

    async def process_request(self, request: Request) -> Response | None:
        # Whatever came in (a copied or redirected request), only this middleware adds a token.
        request.headers.pop(b"Authorization", None)
        request.meta.pop("_pixiv_token", None)
        # Not by host: the token endpoint may share the API host (the sandbox's does).
        verdict = self.hosts.classify(request.url, auth_request=bool(request.meta.get("pixiv_auth_request")))
        if verdict.destination is Destination.AUTH:
            request.meta["dont_redirect"] = True
        elif verdict.destination is Destination.API:
            await self._authenticate(request)
        elif verdict.destination is Destination.IMAGE:
            request.headers.setdefault("Referer", api.IMAGE_REFERER)
            request.meta.setdefault("download_slot", api.IMAGE_SLOT)
        else:
            self.crawler.stats.inc_value(f"pixivcrawl/requests/refused_{verdict.reason}")
            logger.warning("Refused %s: %s", printable(request.url), verdict.detail)
            raise IgnoreRequest(f"refused by the host policy: {verdict.detail}")
        return None

    async def _authenticate(self, request: Request) -> None:
        if self._failed:
            raise IgnoreRequest("pixiv authentication failed")
        try:
            token = await self.tokens.access_token()
        except AuthError as exc:
            self._fail(str(exc))
            raise IgnoreRequest("pixiv authentication failed") from None
        self.crawler.stats.set_value("pixivcrawl/auth/refreshes", self.tokens.refreshes)
        request.meta["download_slot"] = api.API_SLOT
        for name, value in api.APP_HEADERS.items():
            request.headers[name] = value
        request.headers["Accept-Language"] = self.language
        request.headers["Authorization"] = f"Bearer {token}"
        request.meta["_pixiv_token"] = token

    def process_response(self, request: Request, response: Response) -> Request | Response:
        token = request.meta.pop("_pixiv_token", None)
        # Scrapy copies headers into retried requests, and retried requests may be
        # written to JOBDIR: the token must not travel with them.
        request.headers.pop(b"Authorization", None)
        if token is None or response.status < 400:
            return response
        if not api.is_oauth_error(api.error_of(response.body)):
            return response
        self.crawler.stats.inc_value("pixivcrawl/auth/token_rejected")
        retries = own_count(request, "pixiv_token_retries")
        if retries >= MAX_TOKEN_RETRIES:
            logger.error("Pixiv keeps rejecting fresh access tokens for %s; giving up on it", request.url)
            return response
        self.tokens.invalidate(token)
        logger.debug("Access token rejected for %s; refreshing and retrying", request.url)
        retry = request.copy()
        retry.meta["pixiv_token_retries"] = [request.url, retries + 1]
        retry.dont_filter = True
        return retry

    def process_exception(self, request: Request, exception: Exception) -> None:
        request.meta.pop("_pixiv_token", None)
        request.headers.pop(b"Authorization", None)

    def _fail(self, message: str) -> None:
        if self._failed:
            return
        self._failed = True
        self.crawler.stats.set_value("pixivcrawl/auth/failed", 1)
        logger.error("Login failed: %s. Stopping the crawl.", printable(message))
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="pixiv_auth_failed"))


def shared_tokens(crawler: Crawler) -> SharedTokens | None:
    """The workers' shared tokens with PIXIV_REDIS_URL set (redis and the cipher are imported only then)."""
    if not redis_url(crawler.settings):
        return None
    from pixivcrawl.workers.tokens import SharedTokens

    return SharedTokens.from_crawler(crawler)
