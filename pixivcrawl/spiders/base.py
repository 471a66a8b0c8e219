"""The base spider: declared arguments, App API requests and ``next_url`` paging."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

import scrapy
from scrapy import signals
from w3lib.url import canonicalize_url

from pixivcrawl import api
from pixivcrawl.escape import printable
from pixivcrawl.exceptions import ArgumentError
from pixivcrawl.hosts import Destination, HostPolicy
from pixivcrawl.db.archive import Archive
from pixivcrawl.items import ApiObject
from pixivcrawl.models import WorkStatus
from pixivcrawl.parsing import illust_status
from pixivcrawl.rejects import STATS_KEY as REJECTED, Reject, RejectedItem

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

    from pixivcrawl.auth import TokenManager

#: Meta keys of a listing request that its next page keeps (``pixiv_listing``: the first page's URL).
LISTING_META_KEYS = ("pixiv_page", "pixiv_listing", "handle_httpstatus_list")

JST = dt.timezone(dt.timedelta(hours=9), "JST")


@dataclass(frozen=True, slots=True)
class Arg:
    """One spider argument: how to parse it, its accepted values and default."""

    help: str
    choices: tuple[str, ...] | None = None
    default: Any = None
    parse: Callable[[str], Any] | None = None
    expects: str = ""
    required: bool = False


@dataclass(frozen=True, slots=True)
class Incremental:
    """Whether a listing honours PIXIV_INCREMENTAL (stops at its first page whose works are all
    archived), and why: only a listing in time order of works, newest first, can."""

    stops_early: bool
    why: str


Callback = TypeVar("Callback", bound=Callable[..., Any])


def listing(*, incremental: bool, why: str) -> Callable[[Callback], Callback]:
    """Declare a listing callback incremental or not, with the reason (the README lists them)."""

    def declare(callback: Callback) -> Callback:
        callback.pixiv_incremental = Incremental(incremental, why)  # type: ignore[attr-defined]
        return callback

    return declare


def declared_incremental(callback: Any) -> Incremental | None:
    """The declaration of a listing callback (a bound method too), None if it made none."""
    return getattr(callback, "pixiv_incremental", None)


def parse_positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError
    return number


def parse_date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def parse_ids(value: str) -> list[int]:
    """``123`` or ``123,456``: Pixiv ids, in order, without repeats."""
    ids = [parse_positive_int(part.strip()) for part in value.split(",")]
    return list(dict.fromkeys(ids))


def parse_bool(value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError
    return lowered in ("true", "1", "yes")


def parse_dates(value: str) -> list[dt.date]:
    """``YYYY-MM-DD`` or ``START..END`` (inclusive) as a list of dates."""
    start, sep, end = value.partition("..")
    first = dt.date.fromisoformat(start)
    last = dt.date.fromisoformat(end) if sep else first
    if last < first:
        raise ValueError
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def yesterday_in_japan() -> dt.date:
    return dt.datetime.now(JST).date() - dt.timedelta(days=1)


def is_deleted(response: Response) -> bool:
    """A detail page saying the work is gone: HTTP 404 with an App API error body."""
    return response.status == 404 and api.error_of(response.body) is not None


def listing_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The meta a listing's next page inherits: not Scrapy's per-download keys, nor
    the middlewares' per-request retry counters, only what the listing itself set."""
    return {k: meta[k] for k in LISTING_META_KEYS if k in meta}


class PixivSpider(scrapy.Spider):
    """Base of every pixivcrawl spider.

    Subclasses declare ``arguments`` (name -> :class:`Arg`) and build requests
    with :meth:`api_request`; listings continue with :meth:`next_page`, which
    follows Pixiv's absolute ``next_url`` verbatim and honours ``pages=N``.

    A ``next_url`` is followed only on the API origin (the host policy), and a
    listing stops with a WARNING when it repeats a ``next_url`` or passes
    PIXIV_MAX_PAGES pages (the loop guard against a server that never ends one).
    """

    arguments: ClassVar[dict[str, Arg]] = {}
    common_arguments: ClassVar[dict[str, Arg]] = {
        "pages": Arg(
            "maximum pages per listing (30 works a page)",
            parse=parse_positive_int,
            expects="a whole number >= 1",
        ),
    }
    tokens: TokenManager | None = None
    #: How many listings this crawl walks, when the arguments say so up front (progress totals).
    listings_planned: int | None = None
    incremental: bool = False  # PIXIV_INCREMENTAL
    filter: str = ""  # PIXIV_FILTER: the `filter` parameter of the requests that take one
    archive: Archive | None = None  # read access to the archive, in incremental mode
    max_listing_pages: int = 0  # PIXIV_MAX_PAGES

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        self.args = self.parse_arguments(kwargs)
        super().__init__(name)
        self.max_pages: int | None = self.args["pages"]
        # Works listed in this crawl that the archive already had whole (incremental mode only).
        self.archived_illusts: set[int] = set()
        self.archived_novels: set[int] = set()
        # Novels whose text this crawl already asked for: one webview per novel.
        self.novel_texts_requested: set[int] = set()
        # Pages that listings which ended early did not need, out of max_pages each.
        self.pages_not_needed = 0
        # Per listing (its first page's URL): the pages it went through, for the loop guard.
        self.listing_urls: dict[str, set[str]] = {}
        self._hosts: HostPolicy | None = None

    @classmethod
    def all_arguments(cls) -> dict[str, Arg]:
        return {**cls.arguments, **cls.common_arguments}

    @classmethod
    def description(cls) -> str:
        """The first line of the spider's docstring (``scrapy list`` shows it)."""
        return next(iter((cls.__doc__ or "").strip().splitlines()), "").replace("``", "")

    @classmethod
    def arguments_help(cls) -> str:
        """``scrapy crawl SPIDER --help``: each argument with its accepted values and default,
        from the same declarations :meth:`parse_arguments` checks."""
        lines = [f"Spider {cls.name}: {cls.description()}", "", "Arguments (-a NAME=VALUE):"]
        width = max(len(name) for name in cls.all_arguments())
        for name, arg in cls.all_arguments().items():
            accepted = f"one of: {', '.join(arg.choices)}" if arg.choices else arg.expects
            parts = [arg.help, accepted]
            if arg.required:
                parts.append("required")
            elif arg.default is not None:
                parts.append(f"default: {arg.default}")
            lines.append(f"  {name.ljust(width)}  " + "; ".join(p for p in parts if p))
        return "\n".join(lines)

    @classmethod
    def parse_arguments(cls, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Parse ``-a`` arguments; ArgumentError names the argument and accepted values."""
        declared = cls.all_arguments()
        unknown = sorted(set(kwargs) - set(declared))
        if unknown:
            raise ArgumentError(
                f"spider {cls.name}: unknown argument {unknown[0]!r}; "
                f"accepted: {', '.join(declared)}"
            )
        values: dict[str, Any] = {}
        for key, arg in declared.items():
            raw = kwargs.get(key)
            if raw is None or raw == "":
                if arg.required:
                    raise ArgumentError(
                        f"spider {cls.name}: missing {key}; expected {arg.expects or arg.help}"
                    )
                values[key] = arg.default
                continue
            values[key] = cls._parse_argument(key, arg, str(raw))
        return values

    @classmethod
    def _parse_argument(cls, key: str, arg: Arg, raw: str) -> Any:
        if arg.choices is not None:
            if raw not in arg.choices:
                raise ArgumentError(
                    f"spider {cls.name}: bad {key}={raw!r}; expected one of: {', '.join(arg.choices)}"
                )
            return raw
        if arg.parse is None:
            return raw
        try:
            return arg.parse(raw)
        except (ValueError, TypeError):
            raise ArgumentError(
                f"spider {cls.name}: bad {key}={raw!r}; expected {arg.expects or arg.help}"
            ) from None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.incremental = crawler.settings.getbool("PIXIV_INCREMENTAL")
        spider.filter = crawler.settings["PIXIV_FILTER"]
        spider.max_listing_pages = crawler.settings.getint("PIXIV_MAX_PAGES")
        if spider.incremental:
            spider.archive = Archive.from_crawler(crawler)
            crawler.signals.connect(spider.archive.close, signal=signals.spider_closed)
        return spider

    @property
    def api_url(self) -> str:
        # Read when requests are built, not in from_crawler: the sandbox add-on
        # sets PIXIV_API_URL after the spider is created.
        return str(self.settings["PIXIV_API_URL"]).rstrip("/")

    @property
    def hosts(self) -> HostPolicy:
        # Built on first use, for the same reason as api_url.
        if self._hosts is None:
            self._hosts = HostPolicy.from_settings(self.settings)
        return self._hosts

    async def start(self) -> AsyncIterator[Any]:
        for request in self.start_listings():
            yield request

    def start_listings(self) -> Iterable[scrapy.Request]:
        """The first request of each listing this crawl archives."""
        raise NotImplementedError

    def api_request(
        self,
        endpoint: api.Endpoint,
        params: dict[str, Any],
        callback: Callable[..., Any],
        **cb_kwargs: Any,
    ) -> scrapy.Request:
        """A request to ``endpoint`` with ``params``; the endpoint adds its defaults (``filter``)."""
        return scrapy.Request(
            endpoint.url(self.api_url, params, self.filter),
            callback=callback,
            cb_kwargs=cb_kwargs,
            meta={"pixiv_page": 1},
        )

    def detail_request(
        self,
        endpoint: api.Endpoint,
        params: dict[str, Any],
        callback: Callable[..., Any],
        **cb_kwargs: Any,
    ) -> scrapy.Request:
        """An :meth:`api_request` whose 404 reaches ``callback`` (check it with :func:`is_deleted`)."""
        request = self.api_request(endpoint, params, callback, **cb_kwargs)
        request.meta["handle_httpstatus_list"] = [404]
        return request

    def deleted_work(self, kind: str, work_id: int) -> ApiObject:
        """The item recording that work ``work_id`` (``kind`` illust or novel) was deleted."""
        return ApiObject(f"{kind}_deleted", {"id": work_id})

    def next_page(
        self, response: Response, data: dict[str, Any], **cb_kwargs: Any
    ) -> Iterator[scrapy.Request]:
        """The request for ``next_url``, unless the listing ended or ``pages`` is reached."""
        next_url = data.get("next_url")
        request = self.page_request(response, next_url, **cb_kwargs) if next_url else None
        self.page_done(response, more=request is not None)
        if request is not None:
            yield request

    def page_done(self, response: Response, *, more: bool) -> None:
        """Count one listing page for the progress line (``pixivcrawl/pages/done`` and ``/total``)."""
        stats = self.crawler.stats
        stats.inc_value("pixivcrawl/pages/done")
        page = response.meta.get("pixiv_page", 1)
        if not more and self.max_pages is not None and page < self.max_pages:
            self.pages_not_needed += self.max_pages - page
        total = self.pages_total()
        if total is not None:
            stats.set_value("pixivcrawl/pages/total", total)

    def pages_total(self) -> int | None:
        """Listing pages this crawl will fetch, when known: ``pages=N`` for each planned listing,
        less what listings that ended sooner did not need. Spiders that know more override it."""
        if self.max_pages is None or self.listings_planned is None:
            return None
        return self.listings_planned * self.max_pages - self.pages_not_needed

    def page_request(
        self, response: Response, url: str, **cb_kwargs: Any
    ) -> scrapy.Request | None:
        """The request for the next page of a listing at ``url``; None once ``pages`` is
        reached, or when the loop guard or the host policy stops the listing."""
        page = response.meta.get("pixiv_page", 1)
        if self.max_pages is not None and page >= self.max_pages:
            return None
        # A next_url that is not a string (hostile JSON) is refused below like any bad URL.
        url = response.urljoin(url) if isinstance(url, str) else repr(url)
        listing = str(response.meta.get("pixiv_listing") or response.url)
        if not self.next_url_allowed(response, url, page, listing):
            return None
        return response.request.replace(  # type: ignore[union-attr]
            url=url,
            cb_kwargs=cb_kwargs,
            meta={**listing_meta(response.meta), "pixiv_page": page + 1, "pixiv_listing": listing},
        )

    def next_url_allowed(self, response: Response, url: str, page: int, listing: str) -> bool:
        """Whether a listing may go on to ``url``: on the API origin, not seen before in
        this listing, and within PIXIV_MAX_PAGES. Otherwise a WARNING says why it stops."""
        verdict = self.hosts.classify(url)
        stop = None
        if verdict.destination is not Destination.API:
            stop, key = f"its next_url {printable(url)} is not on the API origin ({verdict.detail or 'an image host'})", "refused_next_url"
        else:
            seen = self.listing_urls.setdefault(listing, set())
            seen.add(canonicalize_url(response.url))
            if canonicalize_url(url) in seen:
                stop, key = f"its next_url {printable(url)} repeats a page it already went through", "loop"
            elif page >= self.max_listing_pages:
                stop, key = f"it passed PIXIV_MAX_PAGES={self.max_listing_pages} pages", "max_pages"
            else:
                seen.add(canonicalize_url(url))
        if stop is None:
            return True
        self.crawler.stats.inc_value(f"pixivcrawl/paging/{key}")
        self.logger.warning("Listing %s stops at page %s: %s", printable(listing), page, stop)
        return False

    async def listing_page(
        self,
        response: Response,
        data: dict[str, Any],
        kind: str,
        works: list[dict[str, Any]],
        items: Iterable[Any],
        /,
        **cb_kwargs: Any,
    ) -> AsyncIterator[Any]:
        """One page of a listing of ``kind`` works: its ``items``, then the next page.

        The incremental rule, for every listing: in incremental mode a listing whose
        callback is declared incremental (:func:`listing`) stops at this page when
        every work on it is archived already; the page's own items are still emitted,
        so new relations (bookmarks, ranks) on it are recorded.
        """
        declared = declared_incremental(response.request.callback) if response.request is not None else None
        # Checked before the items go out, or the store could answer with this page's own rows.
        seen_all = declared is not None and declared.stops_early and await self.all_archived(kind, works)
        for item in items:
            yield item
        if seen_all:
            self.logger.info(
                "Incremental: page %s of %s holds only archived works; the listing stops here",
                response.meta.get("pixiv_page", 1), response.url,
            )
            self.crawler.stats.inc_value("pixivcrawl/incremental/listings_stopped")
            self.page_done(response, more=False)
            return
        for request in self.next_page(response, data, **cb_kwargs):
            yield request

    def listed(self, response: Response, data: Any, key: str, kind: str) -> list[dict[str, Any]]:
        """The objects of a listing's ``key`` (``illusts``, ``novels``, ...).

        An element that is not a JSON object costs only itself: it is refused
        (logged, counted under ``pixivcrawl/rejected_items``, recorded in
        ``rejects``) and the rest of the page, its ranks and its next_url stay.
        """
        return [obj for _, obj in self.positioned(response, data, key, kind, 0)[0]]

    def positioned(
        self, response: Response, data: Any, key: str, kind: str, start: int
    ) -> tuple[list[tuple[int, dict[str, Any]]], int]:
        """:meth:`listed`, each object with its position (counted from ``start``; a refused element
        keeps its place, so ranks and positions stay true), and how many elements the page held."""
        value = data.get(key) if isinstance(data, dict) else None
        if not value:
            return [], 0
        elements = value if isinstance(value, list) else [value]
        objects = []
        for position, element in enumerate(elements, start=start):
            if isinstance(element, dict):
                objects.append((position, element))
            else:
                self.refuse(response, kind, element, f"{key}: element is a {type(element).__name__}, not an object")
        return objects, len(elements)

    def refuse(self, response: Response, kind: str, data: Any, error: str) -> None:
        """Refuse an object the spider cannot even hand to validation, as validation refuses one."""
        reject = Reject.of(ApiObject(kind, data, url=response.url), kind=kind, reason="validation",
                           error=error, spider=self.name)
        self.crawler.stats.inc_value(REJECTED)
        self.crawler.stats.inc_value(f"{REJECTED}/validation")
        self.crawler.stats.inc_value(f"pixivcrawl/validation/dropped/{kind}")
        exception = RejectedItem(f"invalid {kind} in {response.url}: {error}", reject)
        self.logger.warning("Dropped: %s (recorded in rejects)", exception)
        self.crawler.signals.send_catch_log(
            signals.item_dropped, item=data, response=response, exception=exception, spider=self
        )

    async def all_archived(self, kind: str, works: list[dict[str, Any]]) -> bool:
        """In incremental mode: whether every work of a non-empty page is archived already.

        Hidden and deleted works in a listing are placeholders with nothing to
        archive but their status, so only the listing's available works count.
        """
        if not self.incremental or not works or self.archive is None:
            return False
        available = [w.get("id") for w in works if self._listed_available(kind, w)]
        if not available:
            return True
        archived = await self.archive.archived_ids(kind, available)
        (self.archived_illusts if kind == "illust" else self.archived_novels).update(archived)
        return len(archived) == len(set(available))

    @staticmethod
    def _listed_available(kind: str, work: dict[str, Any]) -> bool:
        if kind == "illust":
            return illust_status(work)[0] is WorkStatus.AVAILABLE
        return work.get("visible", True) is not False and bool((work.get("user") or {}).get("id"))

    async def account_user_id(self) -> int:
        """The logged-in user's id (logs in if it has not happened yet)."""
        assert self.tokens is not None, "the auth middleware sets spider.tokens"
        await self.tokens.access_token()
        assert self.tokens.account is not None
        return self.tokens.account.user_id

    @listing(incremental=True, why="works in the order Pixiv lists them, newest first")
    async def parse_works(self, response: Response, kind: str = "illust") -> AsyncIterator[Any]:
        """A page of a listing of ``kind`` works (``illusts`` or ``novels``), archived as listed."""
        data = response.json()
        works = self.listed(response, data, f"{kind}s", kind)
        items = self.illust_objects(works) if kind == "illust" else self.novel_objects(works)
        async for out in self.listing_page(response, data, kind, works, items, kind=kind):
            yield out

    def illust_objects(self, illusts: list[dict[str, Any]]) -> Iterator[ApiObject | scrapy.Request]:
        """The items for the illust objects of a listing or detail page.

        An available ugoira first fetches its ``/v1/ugoira/metadata``; the illust
        item follows with the metadata, or without it if that request fails.
        """
        for data in illusts:
            # An archived ugoira keeps its ugoira row: an incremental run does not ask again.
            if (
                data.get("type") == "ugoira"
                and illust_status(data)[0] is WorkStatus.AVAILABLE
                and data.get("id") not in self.archived_illusts
            ):
                request = self.api_request(api.UGOIRA_METADATA, {"illust_id": data["id"]}, self.parse_ugoira, illust=data)
                yield request.replace(errback=self.ugoira_failed)
            else:
                yield ApiObject("illust", data)

    def parse_ugoira(self, response: Response, illust: dict[str, Any]) -> Iterator[ApiObject]:
        try:
            metadata = response.json().get("ugoira_metadata")
        except (ValueError, AttributeError):
            metadata = None
        if not metadata:
            self.crawler.stats.inc_value("pixivcrawl/ugoira/metadata_failed")
            self.logger.warning("illust %s: no ugoira metadata in the answer; archived without it",
                                printable(illust.get("id")))
        yield ApiObject("illust", illust, {"ugoira_metadata": metadata} if metadata else {})

    def ugoira_failed(self, failure: Failure) -> Iterator[ApiObject]:
        illust = failure.request.cb_kwargs["illust"]  # type: ignore[attr-defined]
        self.crawler.stats.inc_value("pixivcrawl/ugoira/metadata_failed")
        self.logger.warning("illust %s: no ugoira metadata (%s); archived without it", printable(illust.get("id")),
                            printable(failure.getErrorMessage()))
        yield ApiObject("illust", illust)

    def novel_objects(self, novels: list[dict[str, Any]]) -> Iterator[ApiObject | scrapy.Request]:
        """The items for the novel objects of a listing or detail page, and the request for each one's text.

        Listings carry the whole novel object, so no detail call is needed; the
        text comes from the webview page, once per novel in a crawl, and only for
        novels Pixiv shows (placeholders have no text to read).
        """
        for data in novels:
            yield ApiObject("novel", data)
            novel_id = data.get("id")
            # An archived novel has its text already: an incremental run does not read it again.
            if not isinstance(novel_id, int) or novel_id in self.novel_texts_requested or novel_id in self.archived_novels:
                continue
            if illust_status(data)[0] is not WorkStatus.AVAILABLE:
                continue
            self.novel_texts_requested.add(novel_id)
            yield self.api_request(api.NOVEL_WEBVIEW, {"id": novel_id}, self.parse_novel_text, novel_id=novel_id)

    def preview_objects(self, preview: dict[str, Any], works: bool = True) -> Iterator[ApiObject | scrapy.Request]:
        """A ``user_previews`` entry: its user (with the entry's ``is_muted``) and, with ``works``,
        its preview works (whole work objects: archived rather than dropped)."""
        user = preview.get("user") or {}
        yield ApiObject("user", {**user, "is_muted": preview.get("is_muted")})
        if works:
            yield from self.illust_objects(preview.get("illusts") or [])
            yield from self.novel_objects(preview.get("novels") or [])

    def parse_novel_text(self, response: Response, novel_id: int) -> Iterator[ApiObject]:
        yield ApiObject("novel_text", {"id": novel_id, "html": response.text})

    def comment_requests(self, kind: str, work_id: int) -> Iterator[scrapy.Request]:
        """The first page of the comments on illust or novel ``work_id``; pages and replies follow."""
        params = {f"{kind}_id": work_id}
        yield self.api_request(
            api.COMMENTS[kind], params, self.parse_comments, kind=kind, work_id=work_id, parent_id=None
        )

    @listing(incremental=False, why="the archive does not answer for comments, and replies arrive under old ones")
    def parse_comments(
        self, response: Response, kind: str, work_id: int, parent_id: int | None
    ) -> Iterator[ApiObject | scrapy.Request]:
        data = response.json()
        context = {"work_kind": kind, "work_id": work_id, "parent_id": parent_id}
        for comment in self.listed(response, data, "comments", "comment"):
            yield ApiObject("comment", comment, context)
            if comment.get("has_replies") and comment.get("id"):
                params = {"comment_id": comment["id"]}
                yield self.api_request(
                    api.COMMENT_REPLIES[kind], params, self.parse_comments,
                    kind=kind, work_id=work_id, parent_id=comment["id"],
                )
        yield from self.next_page(response, data, kind=kind, work_id=work_id, parent_id=parent_id)
