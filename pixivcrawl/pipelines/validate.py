"""Turn raw API objects into validated models; drop, log and count the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from pydantic import ValidationError
from scrapy.exceptions import DropItem

from pixivcrawl.items import ApiObject
from pixivcrawl.models import PixivModel
from pixivcrawl.parsing import PARSERS

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "object"
        return f"{where}: {err['msg']}"
    return f"{type(exc).__name__}: {exc}"


class ValidationPipeline:
    """Parse each :class:`ApiObject` with its parser from :data:`PARSERS`.

    An object that does not parse is dropped (Scrapy logs the kind, id and the
    first problem), and counted under ``pixivcrawl/validation/dropped/<kind>``.
    Items that are already models pass through.
    """

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ApiObject):
            return item
        parser = PARSERS.get(item.kind)
        if parser is None:
            raise DropItem(f"no parser for kind {item.kind!r}")
        try:
            model: PixivModel = parser({**item.data, **item.context})
        except (ValidationError, ValueError, KeyError, TypeError) as exc:
            reason = _first_error(exc)
            object_id = item.data.get("id") if isinstance(item.data, dict) else None
            self.stats.inc_value(f"pixivcrawl/validation/dropped/{item.kind}")
            # Scrapy logs the drop, with this reason, at WARNING.
            raise DropItem(f"invalid {item.kind} {object_id}: {reason}") from None
        self.stats.inc_value(f"pixivcrawl/validation/valid/{item.kind}")
        return model
