"""Turn raw API objects into validated models; refuse, log, count and record the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

import orjson
from pydantic import ValidationError
from scrapy.exceptions import DropItem

from pixivcrawl.items import ApiObject
from pixivcrawl.models import ItemModel
from pixivcrawl.parsing import PARSERS, first_error
from pixivcrawl.rejects import STATS_KEY, Reject, RejectedItem

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector


def has_no_nul(value: Any) -> bool:
    """Whether ``value`` surely holds no NUL character: its JSON, made by orjson in C, shows none.

    False when it cannot tell (a value orjson does not serialise, such as an integer
    past 64 bits): then :func:`without_nul` walks the value itself.
    """
    try:
        return b"\\u0000" not in orjson.dumps(value)
    except TypeError:
        return False


def without_nul(value: Any) -> tuple[Any, int]:
    """``value`` with every NUL character removed from its strings, and how many strings had one.

    No database column takes a NUL (PostgreSQL refuses it in text); Pixiv never sends one,
    so the common case is settled by :func:`has_no_nul` without walking the value.
    """
    if has_no_nul(value):
        return value, 0
    return _without_nul(value)


def _without_nul(value: Any) -> tuple[Any, int]:
    if isinstance(value, str):
        return (value.replace("\x00", ""), 1) if "\x00" in value else (value, 0)
    if isinstance(value, dict):
        out, removed = {}, 0
        for key, item in value.items():
            out[key], n = _without_nul(item)
            removed += n
        return (out, removed) if removed else (value, 0)
    if isinstance(value, list):
        pairs = [_without_nul(item) for item in value]
        removed = sum(n for _, n in pairs)
        return ([v for v, _ in pairs], removed) if removed else (value, 0)
    return value, 0


class ValidationPipeline:
    """Parse each :class:`ApiObject` with its parser from :data:`PARSERS`.

    NUL characters are removed from every string first (counted under
    ``pixivcrawl/validation/nul_removed/<kind>``). An object that does not parse
    (wrong shape, an id or count outside a 64-bit signed integer, ...) is dropped:
    Scrapy logs the kind, id and the first problem, ``pixivcrawl/validation/dropped/<kind>``
    and ``pixivcrawl/rejected_items`` count it, and the store records it in ``rejects``.
    Items that are already models pass through.
    """

    def __init__(self, stats: StatsCollector, spider_name: str | None = None) -> None:
        self.stats = stats
        self.spider_name = spider_name

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.stats, getattr(crawler.spidercls, "name", None))

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ApiObject):
            return item
        parser = PARSERS.get(item.kind)
        if parser is None:
            raise DropItem(f"no parser for kind {item.kind!r}")
        data, nul = without_nul(item.data)
        context, nul_context = without_nul(item.context)
        if nul or nul_context:
            self.stats.inc_value(f"pixivcrawl/validation/nul_removed/{item.kind}")
        try:
            if not isinstance(data, dict):
                raise TypeError(f"not a JSON object but {type(data).__name__}")
            model: ItemModel = parser({**data, **context})
        except (ValidationError, ValueError, KeyError, TypeError, AttributeError, StopIteration) as exc:
            reason = first_error(exc)
            object_id = data.get("id") if isinstance(data, dict) else None
            self.stats.inc_value(f"pixivcrawl/validation/dropped/{item.kind}")
            self.stats.inc_value(STATS_KEY)
            self.stats.inc_value(f"{STATS_KEY}/validation")
            reject = Reject.of(item, kind=item.kind, reason="validation", error=reason, spider=self.spider_name)
            # Scrapy logs the drop, with this reason, at WARNING.
            raise RejectedItem(f"invalid {item.kind} {object_id}: {reason}", reject) from None
        model._source = item
        self.stats.inc_value(f"pixivcrawl/validation/valid/{item.kind}")
        return model
