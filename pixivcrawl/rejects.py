"""Items refused by validation or the store: what the ``rejects`` table records about each."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from scrapy.exceptions import DropItem

from pixivcrawl.items import ApiObject

#: Stats counter of refused items; ``<STATS_KEY>/<reason>`` counts them per reason.
STATS_KEY = "pixivcrawl/rejected_items"


def safe_text(text: str) -> str:
    """``text`` as any database stores it: no NUL, no lone surrogate."""
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def raw_json(data: Any) -> str:
    """The raw API object as JSON text (ASCII: NULs and lone surrogates escaped, big ints kept)."""
    return json.dumps(data, ensure_ascii=True, default=str)


def object_id(data: Any) -> int | None:
    """The object's id when it has one that fits the ``object_id`` column."""
    value = data.get("id") if isinstance(data, dict) else None
    if type(value) is int and -(2**63) <= value < 2**63:
        return value
    return None


@dataclass(frozen=True, slots=True)
class Reject:
    """One row of the ``rejects`` table."""

    kind: str
    object_id: int | None
    spider: str | None
    url: str | None
    reason: str
    error: str
    raw: str
    rejected_at: dt.datetime

    @classmethod
    def of(cls, source: ApiObject | None, *, kind: str, reason: str, error: str, spider: str | None) -> Reject:
        data = source.data if source else None
        return cls(
            kind=source.kind if source else kind,
            object_id=object_id(data),
            spider=spider,
            url=source.url if source else None,
            reason=reason,
            error=safe_text(error)[:2000],
            raw=raw_json(data),
            rejected_at=dt.datetime.now(dt.UTC),
        )

    def row(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "object_id": self.object_id,
            "spider": self.spider,
            "url": self.url,
            "reason": self.reason,
            "error": self.error,
            "raw": self.raw,
            "rejected_at": self.rejected_at,
        }


class RejectedItem(DropItem):
    """An item validation refused; the store records its :class:`Reject` (``item_dropped`` signal)."""

    def __init__(self, message: str, reject: Reject) -> None:
        super().__init__(message)
        self.reject = reject
