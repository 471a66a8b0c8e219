"""Bookmarks, follows, followers, my pixiv, comments: per-user lists from hashes."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .core import Work, WorldCore, is_deleted
from .rand import K_BOOKMARK, K_COMMENT, K_FOLLOW, K_ILLUST, K_NOVEL, mix
from .vocab import BOOKMARK_TAGS

KINDS = {("illust", "public"): 0, ("illust", "private"): 1, ("novel", "public"): 2, ("novel", "private"): 3}
LOGIN_SIZES = {("illust", "public"): 300, ("illust", "private"): 45, ("novel", "public"): 60, ("novel", "private"): 12}
OTHER_SIZES = {("illust", "public"): 120, ("illust", "private"): 15, ("novel", "public"): 40, ("novel", "private"): 6}
UNTAGGED = "未分類"  # Pixiv's name for "bookmarks without a tag"
ILLUST_COMMENT_BASE, NOVEL_COMMENT_BASE, REPLY_BASE = 100_000_000, 300_000_000, 1_000_000_000


@lru_cache(maxsize=16)
def _deleted_pool(seed: int, kind: int, total: int) -> tuple[int, ...]:
    """Some deleted works (the oldest ones), found once so bookmark lists need no search."""
    found = [idx for idx in range(min(total, 20_000)) if is_deleted(seed, kind, idx)]
    return tuple(found[:200])


@dataclass(frozen=True, slots=True)
class Bookmark:
    bookmark_id: int
    work_id: int
    idx: int
    tags: tuple[str, ...]
    restrict: str


class Social:
    """Bookmarks, follows and comments of every user, from hashes of (seed, user)."""

    def __init__(self, core: WorldCore) -> None:
        self.core = core
        self.bookmark_entries = lru_cache(maxsize=512)(self._bookmark_entries)
        self._bookmarked = lru_cache(maxsize=256)(self._bookmarked_set)
        self._follow_all = lru_cache(maxsize=1024)(self._follow_list)
        self._following_set = lru_cache(maxsize=256)(self._following_set_impl)
        self._deleted_pool = lru_cache(maxsize=2)(self._deleted_pool_impl)

    # --- bookmarks ------------------------------------------------------------------------
    def _bookmark_entries(self, user_id: int, kind: str, restrict: str) -> list[Bookmark]:
        """A user's bookmarks, newest (highest bookmark_id) first."""
        key = (kind, restrict)
        if key not in KINDS or not self.core.user_exists(user_id):
            return []
        s, ki = self.core.seed, KINDS[key]
        total = self.core.n_novels if kind == "novel" else self.core.n_illusts
        if user_id == self.core.config.login_user_id:
            n = LOGIN_SIZES[key]
        else:
            n = mix(s, K_BOOKMARK, user_id, ki) % (OTHER_SIZES[key] + 1)
        out, seen = [], set()
        for k in range(n):
            h = mix(s, K_BOOKMARK, user_id, ki, k)
            idx = h % total
            if k % 23 == 7:  # some bookmarked works were deleted since
                idx = self._find_deleted(idx, kind == "novel")
            if idx in seen:
                continue
            seen.add(idx)
            t = h >> 20
            tags = () if t % 4 == 0 else tuple(sorted({BOOKMARK_TAGS[t % 5], BOOKMARK_TAGS[(t >> 4) % 5]}))[: 1 + t % 2]
            base = 20 if kind == "novel" else 10
            bid = base * 10**12 + (user_id * 4 + ki) * 1_000_000 + k * 7 + 1  # grows with k: newer is higher
            out.append(Bookmark(bid, (20_000_000 if kind == "novel" else 120_000_000) + idx, idx, tags, restrict))
        out.reverse()
        return out

    def _find_deleted(self, idx: int, novel: bool) -> int:
        pool = self._deleted_pool(novel)
        return pool[idx % len(pool)] if pool else idx

    def _deleted_pool_impl(self, novel: bool) -> tuple[int, ...]:
        core = self.core
        return _deleted_pool(core.seed, K_NOVEL if novel else K_ILLUST, core.n_novels if novel else core.n_illusts)

    def user_bookmarks(self, user_id: int, restrict: str = "public", kind: str = "illust",
                       tag: str | None = None) -> list[int]:
        """Ground truth: work ids of a bookmark list, in served order (newest bookmark first)."""
        return [b.work_id for b in self.filter_bookmarks(user_id, kind, restrict, tag)]

    def filter_bookmarks(self, user_id: int, kind: str, restrict: str, tag: str | None) -> list[Bookmark]:
        entries = self.bookmark_entries(user_id, kind, restrict)
        if tag is None or tag == "":
            return entries
        if tag == UNTAGGED:
            return [b for b in entries if not b.tags]
        return [b for b in entries if tag in b.tags]

    def bookmark_tags(self, user_id: int, kind: str, restrict: str) -> list[dict[str, object]]:
        counts: dict[str, int] = {}
        for b in self.bookmark_entries(user_id, kind, restrict):
            for t in b.tags:
                counts[t] = counts.get(t, 0) + 1
        return [{"name": n, "count": c} for n, c in sorted(counts.items(), key=lambda x: (-x[1], x[0]))]

    def _bookmarked_set(self, user_id: int) -> dict[int, Bookmark]:
        out = {}
        for key in KINDS:
            for b in self.bookmark_entries(user_id, *key):
                out[b.work_id] = b
        return out

    def bookmark_of(self, viewer: int, work_id: int) -> Bookmark | None:
        return self._bookmarked(viewer).get(work_id)

    def is_bookmarked(self, viewer: int, w: Work) -> bool:
        return w.id in self._bookmarked(viewer)

    # --- follows --------------------------------------------------------------------------
    def _follow_list(self, user_id: int, what: str) -> tuple[list[int], list[int]]:
        if not self.core.user_exists(user_id) or self.core.n_users < 2:
            return [], []
        s, salt = self.core.seed, {"following": 1, "follower": 2, "mypixiv": 3}[what]
        login = user_id == self.core.config.login_user_id
        sizes = {"following": (120, 15) if login else (mix(s, K_FOLLOW, user_id, 1) % 61,
                                                        mix(s, K_FOLLOW, user_id, 2) % 6),
                 "follower": (150 if login else mix(s, K_FOLLOW, user_id, 3) % 81, 0),
                 "mypixiv": (12 if login else mix(s, K_FOLLOW, user_id, 4) % 9, 0)}[what]
        n = min(sum(sizes), self.core.n_users - 1)
        start, step = mix(s, K_FOLLOW, user_id, salt, 9), 7919 + 2 * salt
        ids: list[int] = []
        seen, k = set(), 0
        while len(ids) < n and k < n * 4 + 16:
            uid = 1 + (start + k * step) % self.core.n_users
            k += 1
            if uid != user_id and uid not in seen:
                seen.add(uid)
                ids.append(uid)
        return ids[: sizes[0]], ids[sizes[0]:]

    def following_ids(self, user_id: int, restrict: str = "public") -> list[int]:
        """Ground truth: followed user ids in served order; restrict public|private|all."""
        pub, priv = self._follow_all(user_id, "following")
        return pub if restrict == "public" else priv if restrict == "private" else pub + priv

    def follower_ids(self, user_id: int) -> list[int]:
        # not kept consistent with following_ids of the other side (would need a global index)
        return self._follow_all(user_id, "follower")[0]

    def mypixiv_ids(self, user_id: int) -> list[int]:
        return self._follow_all(user_id, "mypixiv")[0]

    def related_user_ids(self, seed_user: int) -> list[int]:
        """Ground truth of /v1/user/related: up to 30 users, one page."""
        ids = dict.fromkeys(1 + (seed_user * 31 + k * 7927) % self.core.n_users for k in range(30))
        return [u for u in ids if u != seed_user]

    def recommended_user_ids(self, viewer: int) -> list[int]:
        """Ground truth of /v1/user/recommended for ``viewer``, in served order."""
        return list(dict.fromkeys(1 + (viewer * 7919 + k * 104729) % self.core.n_users for k in range(300)))

    def listed_user_ids(self, user_id: int) -> list[int]:
        """Ground truth of /v2/user/list: a handful of users."""
        users = dict.fromkeys(1 + (user_id * 13 + k * 6151) % self.core.n_users for k in range(7))
        return [u for u in users if u != user_id]

    def is_following(self, viewer: int, user_id: int) -> bool:
        return user_id in self._following_set(viewer)

    def _following_set_impl(self, viewer: int) -> frozenset[int]:
        return frozenset(self.following_ids(viewer, "all"))

    # --- comments -------------------------------------------------------------------------
    def comment_count(self, w: Work) -> int:
        h = mix(self.core.seed, K_COMMENT, int(w.novel), w.idx)
        return 0 if h % 4 == 0 or w.deleted or w.hidden else 1 + h % 45

    def comment_id(self, w: Work, k: int) -> int:
        return (NOVEL_COMMENT_BASE if w.novel else ILLUST_COMMENT_BASE) + w.idx * 64 + k

    def comment_parent(self, comment_id: int) -> tuple[bool, int, int] | None:
        """(novel, work idx, k) of a top-level comment id."""
        core = self.core
        for novel, base, total in ((True, NOVEL_COMMENT_BASE, core.n_novels),
                                   (False, ILLUST_COMMENT_BASE, core.n_illusts)):
            if base <= comment_id < base + total * 64:
                idx, k = divmod(comment_id - base, 64)
                w = self.core.novel(idx) if novel else self.core.illust(idx)
                return (novel, idx, k) if k < self.comment_count(w) else None
        return None

    def reply_count(self, comment_id: int) -> int:
        h = mix(self.core.seed, K_COMMENT, 7, comment_id)
        return 0 if h % 3 else 1 + (h >> 8) % 4
