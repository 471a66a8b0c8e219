"""Deterministic fake Pixiv data, generated lazily from (seed, kind, id); import World for ground truth.

The world is made of parts with explicit dependencies (each takes what it uses):
``WorldCore`` (works, ids, time; World itself) <- ``Social`` (bookmarks, follows, comments)
<- ``Users`` <- ``Listings`` (rankings, search, feeds); ``NovelText``; ``Objects`` (JSON shapes) on top.
"""
from __future__ import annotations

from typing import Any

from ..config import SandboxConfig
from .core import ILLUST_BASE, JST, NOVEL_BASE, Work, WorldCore
from .listings import NOVEL_RANKING_MODES, RANKING_MODES, Listings
from .objects import Objects
from .social import Bookmark, Social
from .text import NovelText
from .users import Users
from .vocab import TAG_BY_NAME, TAGS

PARTS = ("objects", "listings", "users", "social", "text")


class World(WorldCore):
    """All sandbox data. Cheap to construct; nothing per work is precomputed.

    The core's methods and state are World's own; every public method of the other parts is
    reachable as ``world.<name>`` too (a facade: routes and tests need not know which part).
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        super().__init__(config)
        self.social = Social(self)
        self.users = Users(self, self.social)
        self.listings = Listings(self, self.social, self.users)
        self.text = NovelText(self)
        self.objects = Objects(self, self.social, self.users, self.listings, self.text)

    def __getattr__(self, name: str) -> Any:
        parts = self.__dict__
        for part in PARTS:
            if part in parts and not name.startswith("_") and hasattr(parts[part], name):
                value = getattr(parts[part], name)
                if callable(value):
                    setattr(self, name, value)  # bound once: later lookups skip this method
                return value
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def illust_by_id(self, illust_id: int) -> Work | None:
        idx = self.illust_idx(illust_id)
        return None if idx is None else self.illust(idx)

    def novel_by_id(self, novel_id: int) -> Work | None:
        idx = self.novel_idx(novel_id)
        return None if idx is None else self.novel(idx)


__all__ = ["World", "WorldCore", "Social", "Users", "Listings", "NovelText", "Objects", "Work", "Bookmark",
           "SandboxConfig", "ILLUST_BASE", "NOVEL_BASE", "JST", "RANKING_MODES", "NOVEL_RANKING_MODES", "TAGS",
           "TAG_BY_NAME"]
