"""What spiders emit before validation: an API object, untouched, with its context.

Spiders do not build models themselves: a surprising payload must become a
dropped item with a logged reason (the validation pipeline), never a crashed
callback. ``kind`` names the parser in :data:`pixivcrawl.parsing.PARSERS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class ApiObject:
    kind: str
    data: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)
    # The page it came from (set by SourceUrlMiddleware), for the rejects table.
    url: str | None = None
