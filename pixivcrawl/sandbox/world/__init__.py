"""Deterministic fake Pixiv data, generated lazily from (seed, kind, id); import World for ground truth."""
from __future__ import annotations

from ..config import SandboxConfig
from .core import ILLUST_BASE, NOVEL_BASE, JST, Work
from .listings import NOVEL_RANKING_MODES, RANKING_MODES, ListingsMixin
from .objects import ObjectsMixin
from .social import Bookmark, SocialMixin
from .text import TextMixin
from .vocab import TAG_BY_NAME, TAGS


class World(ListingsMixin, SocialMixin, TextMixin, ObjectsMixin):
    """All sandbox data. Cheap to construct; nothing per work is precomputed."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        super().__init__(config)

    def illust_by_id(self, illust_id: int) -> Work | None:
        idx = self.illust_idx(illust_id)
        return None if idx is None else self.illust(idx)

    def novel_by_id(self, novel_id: int) -> Work | None:
        idx = self.novel_idx(novel_id)
        return None if idx is None else self.novel(idx)


__all__ = ["World", "Work", "Bookmark", "SandboxConfig", "ILLUST_BASE", "NOVEL_BASE", "JST", "RANKING_MODES",
           "NOVEL_RANKING_MODES", "TAGS", "TAG_BY_NAME"]
