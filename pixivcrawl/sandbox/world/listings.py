"""Ordered work listings: user works, rankings, search, feeds, new, related, series."""
from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta
from functools import lru_cache
from itertools import islice

from .core import ILLUST_BASE, ILLUST_RESIDUES, NOVEL_BASE, NOVEL_RESIDUES, Work, WorldCore
from .rand import K_MISC, K_RANK, mix, sid
from .social import Social
from .users import Users
from .vocab import AI_PERIOD, R18_PERIOD, R18G_PERIOD, TAGS, TITLE_A, TITLE_B

# mode -> (days covered, predicate on a work). Deleted works never rank; hidden ones can.
_SAFE = lambda w: w.x_restrict == 0 and w.ai_type != 2  # noqa: E731  general rankings exclude R-18 and AI
_MANGA = lambda w: w.type == "manga" and w.x_restrict == 0 and w.ai_type != 2  # noqa: E731
_R18 = lambda w: w.x_restrict == 1 and w.ai_type != 2  # noqa: E731
_R18M = lambda w: w.x_restrict == 1 and w.type == "manga"  # noqa: E731
RANKING_MODES: dict[str, tuple[int, Callable[[Work], bool]]] = {
    "day": (1, _SAFE), "week": (7, _SAFE), "month": (30, _SAFE), "day_male": (1, _SAFE),
    "day_female": (1, _SAFE), "week_original": (7, _SAFE), "week_rookie": (7, _SAFE),
    "day_manga": (1, _MANGA), "week_manga": (7, _MANGA), "month_manga": (30, _MANGA),
    "week_rookie_manga": (7, _MANGA), "day_r18": (1, _R18), "day_male_r18": (1, _R18),
    "day_female_r18": (1, _R18), "week_r18": (7, _R18), "week_r18g": (7, lambda w: w.x_restrict == 2),
    "day_ai": (1, lambda w: w.ai_type == 2 and w.x_restrict == 0),
    "day_r18_ai": (1, lambda w: w.ai_type == 2 and w.x_restrict == 1),
    "day_r18_manga": (1, _R18M), "week_r18_manga": (7, _R18M),
}
NOVEL_RANKING_MODES = ["day", "week", "day_male", "day_female", "week_rookie", "week_ai", "day_r18", "week_r18",
                       "week_r18g", "day_male_r18", "day_female_r18", "day_r18_ai"]
SEARCH_TARGETS = ("partial_match_for_tags", "exact_match_for_tags", "title_and_caption", "keyword", "text")
SORTS = ("date_desc", "date_asc", "popular_desc")
DURATIONS = {"within_last_day": 1, "within_last_week": 7, "within_last_month": 30}
Term = tuple[int, int]  # (period, offset): works with idx % period == offset


def desc_progression(period: int, offset: int, lo: int, hi: int) -> Iterator[int]:
    """idx in [lo, hi) with idx % period == offset, descending."""
    top = hi - 1 - ((hi - 1 - offset) % period)
    return iter(range(top, lo - 1, -period)) if top >= lo else iter(())


def asc_progression(period: int, offset: int, lo: int, hi: int) -> Iterator[int]:
    first = lo + ((offset - lo) % period)
    return iter(range(first, hi, period))


def merged(terms: Iterable[Term], lo: int, hi: int, reverse: bool = True) -> Iterator[int]:
    prog = desc_progression if reverse else asc_progression
    last = None
    for idx in heapq.merge(*(prog(p, o, lo, hi) for p, o in set(terms)), reverse=reverse):
        if idx != last:
            last = idx
            yield idx


class Listings:
    """Ordered work listings over the core's works, the social graph and the users' names."""

    def __init__(self, core: WorldCore, social: Social, users: Users) -> None:
        self.core = core
        self.social = social
        self.users = users
        self._ranking = lru_cache(maxsize=256)(self._ranking_impl)
        self._popular = lru_cache(maxsize=16)(self._popular_impl)
        self._counts = lru_cache(maxsize=4096)(self._count_impl)
        self.search_user_ids = lru_cache(maxsize=64)(self._search_users)

    def _search_users(self, word: str) -> list[int]:
        """Ground truth for /v1/search/user: ids whose name or account contains the word, newest first."""
        wl = word.lower()
        out = []
        for u in range(self.core.n_users, 0, -1):
            name, account = self.users.user_name(u)  # type: ignore[attr-defined]
            if wl in name.lower() or wl in account.lower():
                out.append(u)
        return out

    # --- user works -----------------------------------------------------------------------
    def iter_user_works(self, user_id: int, kind: str) -> Iterator[Work]:
        """kind illust|manga|novel|any; newest first; deleted works skipped."""
        if kind == "novel":
            terms = [(NOVEL_RESIDUES, r) for r in self.core.novel_residues(user_id)]
            for idx in merged(terms, 0, self.core.n_novels):
                w = self.core.novel(idx)
                if not w.deleted and self.core.published(w):
                    yield w
            return
        terms = [(ILLUST_RESIDUES, r) for r in self.core.illust_residues(user_id)]
        for idx in merged(terms, 0, self.core.n_illusts):
            w = self.core.illust(idx)
            # Pixiv lists ugoira under type=illust
            if not w.deleted and self.core.published(w) and (kind == "any" or (w.type == "manga") == (kind == "manga")):
                yield w

    def user_illust_ids(self, user_id: int, type: str = "illust") -> list[int]:
        """Ground truth for /v1/user/illusts (type illust|manga) and /v1/user/novels (type novel)."""
        return [w.id for w in self.iter_user_works(user_id, type)]

    def _count_impl(self, user_id: int) -> dict[str, int]:
        c = {"illust": 0, "manga": 0, "novel": 0}
        series: dict[str, set[int]] = {"illust": set(), "novel": set()}
        for w in self.iter_user_works(user_id, "any"):
            c["manga" if w.type == "manga" else "illust"] += 1
            if w.series_id:
                series["illust"].add(w.series_id)
        for w in self.iter_user_works(user_id, "novel"):
            c["novel"] += 1
            if w.series_id:
                series["novel"].add(w.series_id)
        c["illust_series"], c["novel_series"] = len(series["illust"]), len(series["novel"])
        return c

    def user_work_counts(self, user_id: int) -> dict[str, int]:
        return self._counts(user_id)

    def latest_works(self, user_id: int, kind: str, n: int = 3) -> list[Work]:
        return [w for w in islice(self.iter_user_works(user_id, kind), n * 3) if not w.hidden][:n]

    # --- rankings -------------------------------------------------------------------------
    def default_ranking_date(self) -> date:
        return self.core.today() - timedelta(days=1)

    def ranking(self, mode: str, d: date | str | None = None, novel: bool = False) -> list[int]:
        """Ground truth: work ids of a ranking, rank 1 first."""
        if d is None:
            d = self.default_ranking_date()
        if isinstance(d, str):
            d = date.fromisoformat(d)
        return self._ranking(mode, d, novel)

    def _ranking_impl(self, mode: str, d: date, novel: bool) -> list[int]:
        days, pred = RANKING_MODES.get(mode, (7 if "week" in mode else 1, _SAFE))
        if novel:
            pred = {"r18g": lambda w: w.x_restrict == 2, "r18": lambda w: w.x_restrict == 1}.get(
                "r18g" if "r18g" in mode else "r18" if "r18" in mode else "", lambda w: w.x_restrict == 0)
        idx_at, get, total = (self.core.novel_idx_at, self.core.novel, self.core.n_novels) if novel else \
            (self.core.illust_idx_at, self.core.illust, self.core.n_illusts)
        end_ts = min(self.core.day_start(d) + 86400, self.core.now())
        hi = idx_at(end_ts)
        if hi <= 0:
            return []
        period, offset = 1, 0
        if "r18g" in mode:
            period = R18G_PERIOD
        elif "r18" in mode:
            period = R18_PERIOD
        elif "_ai" in mode:
            period = AI_PERIOD
        want = self.core.config.ranking_size
        span = days * 86400
        ms = sid(mode) + 7 * int(novel)
        dk = d.toordinal()
        while True:
            lo = idx_at(end_ts - span)
            cands = list(desc_progression(period, offset, lo, hi))
            if len(cands) > 20000:  # sample big windows evenly; keeps a month ranking cheap
                step = len(cands) // 20000 + 1
                cands = cands[::step]
            scored = []
            for idx in cands:
                w = get(idx)
                if not w.deleted and pred(w):
                    scored.append((w.pop * (1 + mix(self.core.seed, K_RANK, ms, dk, idx) % 1000), w.id))
            if len(scored) >= want or lo == 0:
                break
            span *= 2  # small worlds: widen the window until the ranking fills
        scored.sort(reverse=True)
        return [i for _, i in scored[:want]]

    # --- search ---------------------------------------------------------------------------
    def search_terms(self, word: str, target: str, novel: bool) -> tuple[list[Term], Callable[[int], bool]]:
        """Progressions that may match one search word, and an exact membership test."""
        wl = word.lower()
        tags = []
        if target in ("exact_match_for_tags",):
            tags = [t for t in TAGS if t.name.lower() == wl or any(v.lower() == wl for v in (t.tr or {}).values())]
        elif target in ("partial_match_for_tags", "keyword", "text"):
            tags = [t for t in TAGS if wl in t.name.lower() or any(wl in v.lower() for v in (t.tr or {}).values())]
        shift = 7 if novel else 0
        titles: list[Term] = []
        if target in ("title_and_caption", "keyword", "text"):
            # a word spanning both halves of a title ("の約") is not matched: titles are two vocabulary words
            titles += [(len(TITLE_A), (j - shift) % len(TITLE_A)) for j, a in enumerate(TITLE_A) if wl in a.lower()]
            titles += [(len(TITLE_B), (j - shift) % len(TITLE_B)) for j, b in enumerate(TITLE_B) if wl in b.lower()]
        terms = [(t.period, t.offset) for t in tags] + titles

        def test(idx: int) -> bool:
            return any(t.has(idx) for t in tags) or any(idx % p == o for p, o in titles)
        return terms, test

    def search_window(self, novel: bool, start_date: str | None, end_date: str | None,
                      duration: str | None) -> tuple[int, int]:
        idx_at = self.core.novel_idx_at if novel else self.core.illust_idx_at
        lo_ts, hi_ts = 0, self.core.now() + 1
        if duration in DURATIONS:
            lo_ts = self.core.now() - DURATIONS[duration] * 86400
        if start_date:
            lo_ts = max(lo_ts, self.core.day_start(date.fromisoformat(start_date)))
        if end_date:
            hi_ts = min(hi_ts, self.core.day_start(date.fromisoformat(end_date)) + 86400)
        return idx_at(lo_ts), idx_at(hi_ts)

    def iter_search(self, word: str, novel: bool = False, search_target: str = "partial_match_for_tags",
                    sort: str = "date_desc", start_date: str | None = None, end_date: str | None = None,
                    duration: str | None = None, search_ai_type: str | int | None = None) -> Iterator[Work]:
        words = word.split()
        if not words:
            return iter(())
        if sort == "popular_desc":
            key = (tuple(words), novel, search_target, start_date, end_date, duration, str(search_ai_type),
                   self.core.clock_advance)
            return iter(self._popular(key))
        return self._iter_search(words, novel, search_target, sort == "date_asc", start_date, end_date, duration,
                                 search_ai_type)

    def _iter_search(self, words: list[str], novel: bool, target: str, asc: bool, start_date: str | None,
                     end_date: str | None, duration: str | None, ai: str | int | None) -> Iterator[Work]:
        lo, hi = self.search_window(novel, start_date, end_date, duration)
        terms, _ = self.search_terms(words[0], target, novel)
        tests = [self.search_terms(w, target, novel)[1] for w in words]
        get = self.core.novel if novel else self.core.illust
        # pixivpy documents search_ai_type 0 as "filter out AI works" and 1 as "show them";
        # 2 is "AI works only" (the endpoint reference; both agree nothing else is 2).
        hide_ai, only_ai = str(ai) == "0", str(ai) == "2"
        for idx in merged(terms, lo, hi, reverse=not asc):
            if (hide_ai and idx % AI_PERIOD == 0) or (only_ai and idx % AI_PERIOD != 0):
                continue
            if all(t(idx) for t in tests):
                w = get(idx)
                if not w.deleted:
                    yield w

    def _popular_impl(self, key: tuple) -> list[Work]:  # type: ignore[type-arg]
        words, novel, target, sd, ed, dur, ai, _ = key
        # popular_desc ranks the newest 30000 matches only: enough to page past the 5000 cap, and a
        # sort over 100k works per query would stall the server (Pixiv's own popular sort is opaque)
        works = list(islice(self._iter_search(list(words), novel, target, False, sd, ed, dur, ai), 30_000))
        works.sort(key=lambda w: (-self.core.counts(w)[0], -w.idx))
        return works

    def search_illust_ids(self, word: str, **kw: object) -> list[int]:
        """Ground truth for /v1/search/illust (kwargs as the API params)."""
        return [w.id for w in self.iter_search(word, False, **kw)]  # type: ignore[arg-type]

    def search_novel_ids(self, word: str, **kw: object) -> list[int]:
        return [w.id for w in self.iter_search(word, True, **kw)]  # type: ignore[arg-type]

    def search_illusts(self, word: str, **kw: object) -> int:
        """Number of illusts a search serves in total (ignoring the 5000-offset cap)."""
        return sum(1 for _ in self.iter_search(word, False, **kw))  # type: ignore[arg-type, misc]

    # --- feeds, new, related, recommended -------------------------------------------------
    def iter_follow_feed(self, viewer: int, restrict: str, novel: bool) -> Iterator[Work]:
        users = self.social.following_ids(viewer, restrict)
        if novel:
            terms = [(NOVEL_RESIDUES, r) for u in users for r in self.core.novel_residues(u)]
            total, get = self.core.n_novels, self.core.novel
        else:
            terms = [(ILLUST_RESIDUES, r) for u in users for r in self.core.illust_residues(u)]
            total, get = self.core.n_illusts, self.core.illust
        for idx in merged(terms, 0, total):
            w = get(idx)
            if not w.deleted and self.core.published(w):
                yield w

    def iter_new(self, novel: bool, content_type: str = "illust", max_id: int | None = None) -> Iterator[Work]:
        core = self.core
        get, total, base = (core.novel, core.n_novels, NOVEL_BASE) if novel else \
            (core.illust, core.n_illusts, ILLUST_BASE)
        top = total - 1 if max_id is None else min(total - 1, max_id - base)
        for idx in range(top, -1, -1):
            w = get(idx)
            if w.deleted or w.hidden or not self.core.published(w):
                continue
            if novel or (w.type == "manga") == (content_type == "manga"):
                yield w

    def related_idx(self, seed_idx: int, novel: bool, n: int, start: int) -> list[int]:
        get, total = (self.core.novel, self.core.n_novels) if novel else (self.core.illust, self.core.n_illusts)
        out: list[int] = []
        m = start
        while len(out) < n and m < start + n * 4 + 8:
            delta = 10 * (mix(self.core.seed, K_MISC, 5, seed_idx, m) % 4000 - 2000)  # same group-10 tag
            m += 1
            idx = seed_idx + delta
            if 0 <= idx < total and idx != seed_idx and not get(idx).deleted:
                out.append(idx)
        return out

    def recommended_idx(self, viewer: int, novel: bool, manga: bool, offset: int, n: int) -> list[int]:
        get, total = (self.core.novel, self.core.n_novels) if novel else (self.core.illust, self.core.n_illusts)
        span = min(total, 50_000)
        out: list[int] = []
        i = offset
        while len(out) < n and i < offset + n * 8 + 8:
            idx = total - 1 - mix(self.core.seed, K_MISC, 6, viewer, int(novel), int(manga), i) % span
            i += 1
            w = get(idx)
            if w.deleted or w.hidden or w.x_restrict or (not novel and (w.type == "manga") != manga):
                continue
            out.append(idx)
        return out

    def latest_with_tag(self, tag_index: int, novel: bool) -> Work | None:
        t = TAGS[tag_index]
        get, total = (self.core.novel, self.core.n_novels) if novel else (self.core.illust, self.core.n_illusts)
        for idx in islice(desc_progression(t.period, t.offset, 0, total), 200):
            w = get(idx)
            if t.has(idx) and not w.deleted and not w.hidden and not w.x_restrict:
                return w
        return None
