"""Downloader middleware: Scrapy's redirects, under the host policy (no credential on any redirect)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest

from pixivcrawl.escape import printable
from pixivcrawl.hosts import HostPolicy

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response

logger = logging.getLogger(__name__)


class PixivRedirectMiddleware(RedirectMiddleware):
    """Scrapy's RedirectMiddleware, with pixivcrawl's rules on top:

    - the token endpoint's answer is never redirected (the refresh token is
      POSTed once, to PIXIV_AUTH_URL, and a 307/308 does not send it again);
    - a redirected request carries no ``Authorization`` header and no token in
      its meta, even to the same origin: it is queued (and written to JOBDIR)
      like any request, and the auth middleware adds a token again at send time
      if, and only if, it goes to the API origin;
    - a redirect is followed only to an allowed origin of the same kind (API to
      the API origin, files to the image origins), never https to http; others
      are refused and counted (``pixivcrawl/requests/refused_redirect``).
    """

    _hosts: HostPolicy | None = None

    @property
    def hosts(self) -> HostPolicy:
        if self._hosts is None:
            self._hosts = HostPolicy.from_settings(self.crawler.settings)
        return self._hosts

    def _engine_started(self) -> None:
        # Scrapy looks for its Referer spider middleware here, to set a redirected request's Referer,
        # and warns on every crawl when it is off (as SPIDER_MIDDLEWARES has it). Nothing needs it:
        # only API calls follow redirects (MEDIA_ALLOW_REDIRECTS is off) and they carry no Referer.
        pass

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        if request.meta.get("pixiv_auth_request"):
            return response
        return super().process_response(request, response)

    def _build_redirect_request(self, source_request: Request, response: Response, *, url: str, **kwargs: Any) -> Request:
        redirected = super()._build_redirect_request(source_request, response, url=url, **kwargs)
        redirected.headers.pop(b"Authorization", None)
        redirected.meta.pop("_pixiv_token", None)
        verdict = self.hosts.redirect_allowed(source_request.url, redirected.url)
        if verdict.refused:
            self.crawler.stats.inc_value("pixivcrawl/requests/refused_redirect")
            logger.warning("Refused a redirect from %s to %s: %s", printable(source_request.url),
                           printable(redirected.url), verdict.detail)
            raise IgnoreRequest(f"redirect refused by the host policy: {verdict.detail}")
        return redirected
