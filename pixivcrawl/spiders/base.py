"""The base spider: declared arguments, App API requests and ``next_url`` paging."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self
from urllib.parse import urlencode

import scrapy

from pixivcrawl import api
from pixivcrawl.exceptions import ArgumentError
from pixivcrawl.items import ApiObject

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from pixivcrawl.auth import TokenManager

JST = dt.timezone(dt.timedelta(hours=9), "JST")


@dataclass(frozen=True, slots=True)
class Arg:
    """One spider argument: how to parse it, its accepted values and default."""

    help: str
    choices: tuple[str, ...] | None = None
    default: Any = None
    parse: Callable[[str], Any] | None = None
    expects: str = ""


def parse_positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError
    return number


def parse_date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


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


class PixivSpider(scrapy.Spider):
    """Base of every pixivcrawl spider.

    Subclasses declare ``arguments`` (name -> :class:`Arg`) and build requests
    with :meth:`api_request`; listings continue with :meth:`next_page`, which
    follows Pixiv's absolute ``next_url`` verbatim and honours ``pages=N``.
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
    api_url: str = ""  # PIXIV_API_URL, set in from_crawler

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        self.args = self.parse_arguments(kwargs)
        super().__init__(name)
        self.max_pages: int | None = self.args["pages"]

    @classmethod
    def all_arguments(cls) -> dict[str, Arg]:
        return {**cls.arguments, **cls.common_arguments}

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
        spider.api_url = crawler.settings["PIXIV_API_URL"].rstrip("/")
        return spider

    async def start(self) -> AsyncIterator[Any]:
        for request in self.start_listings():
            yield request

    def start_listings(self) -> Iterable[scrapy.Request]:
        """The first request of each listing this crawl archives."""
        raise NotImplementedError

    def api_request(
        self,
        path: str,
        params: dict[str, Any],
        callback: Callable[..., Any],
        **cb_kwargs: Any,
    ) -> scrapy.Request:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return scrapy.Request(
            f"{self.api_url}{path}?{query}",
            callback=callback,
            cb_kwargs=cb_kwargs,
            meta={"pixiv_page": 1},
        )

    def next_page(
        self, response: Response, data: dict[str, Any], **cb_kwargs: Any
    ) -> Iterator[scrapy.Request]:
        """The request for ``next_url``, unless the listing ended or ``pages`` is reached."""
        next_url = data.get("next_url")
        page = response.meta.get("pixiv_page", 1)
        if not next_url or (self.max_pages is not None and page >= self.max_pages):
            return
        yield response.request.replace(  # type: ignore[union-attr]
            url=next_url,
            cb_kwargs=cb_kwargs,
            meta={**response.meta, "pixiv_page": page + 1},
        )

    def illust_objects(self, illusts: list[dict[str, Any]]) -> Iterator[ApiObject]:
        """The items for the illust objects of a listing or detail page."""
        for data in illusts:
            yield ApiObject("illust", data)
