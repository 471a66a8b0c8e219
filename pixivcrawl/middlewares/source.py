"""Spider middleware: each API object remembers the page it came from (for the rejects table)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pixivcrawl.items import ApiObject

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable

    from scrapy.http import Response


class SourceUrlMiddleware:
    """Sets :attr:`ApiObject.url` to the URL of the response whose callback emitted it."""

    @staticmethod
    def _mark(response: Response, item: Any) -> Any:
        if isinstance(item, ApiObject) and item.url is None:
            item.url = response.url
        return item

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        for item in result:
            yield self._mark(response, item)

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in result:
            yield self._mark(response, item)
