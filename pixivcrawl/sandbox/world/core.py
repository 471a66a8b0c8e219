"""World core: id spaces, time axis, per-work properties derived from (seed, kind, index)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from ..config import SandboxConfig
from .rand import K_AUTHOR, K_DELETED, K_ILLUST, K_NOVEL, K_PAGES, K_SERIES, K_TYPE, mix
from .vocab import AI_PERIOD, R18_PERIOD, R18G_PERIOD, TAGS, Tag

JST = timezone(timedelta(hours=9))
ILLUST_BASE = 120_000_000
NOVEL_BASE = 20_000_000
ILLUST_INTERVAL = 60     # seconds between consecutive illusts (ids are monotonic in create_date)
NOVEL_INTERVAL = 300
ILLUST_RESIDUES = 9973   # author of illust idx is AUTHOR[idx % 9973]: user works are unions of progressions
NOVEL_RESIDUES = 1009
ILLUST_SERIES_CHUNK = 8
NOVEL_SERIES_CHUNK = 40
HIDDEN_KINDS = ("sanity_level", "unviewable", "mypixiv")


@dataclass(frozen=True, slots=True)
class Work:
    """Cheap facts about one illust or novel; JSON objects are built from these."""
    idx: int
    id: int
    novel: bool
    ts: int                 # create time, unix seconds
    deleted: bool
    hidden: str | None      # None or one of HIDDEN_KINDS
    type: str               # illust | manga | ugoira | novel
    pages: int
    x_restrict: int
    ai_type: int
    user_id: int
    ext: str
    pop: int                # base bookmark count (rankings use it; stable over the clock)
    series_id: int          # 0 = none
    series_order: int
    upload_ts: int = 0      # re-upload time (POST /__works), else 0: file URLs carry it

    @property
    def file_ts(self) -> int:
        """The time in the work's file URLs: its creation, or its latest re-upload."""
        return self.upload_ts or self.ts


class WorldCore:
    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        c = self.config
        self.seed = c.seed
        self.n_illusts, self.n_novels, self.n_users = c.num_illusts, c.num_novels, c.num_users
        self.epoch = int(datetime.fromisoformat(c.epoch).timestamp())
        self.clock_advance = 0      # seconds added by POST /__clock; only counters move with it
        # Works published in the last `unpublished` seconds before the epoch appear as the clock moves.
        self.unpublished = c.unpublished
        # (novel, idx) -> Work fields changed later (POST /__works): hidden, deleted, re-uploaded.
        self.changes: dict[tuple[bool, int], dict[str, object]] = {}
        self.change_count = 0
        self.illust_start = self.epoch - self.n_illusts * ILLUST_INTERVAL
        self.novel_start = self.epoch - self.n_novels * NOVEL_INTERVAL
        self.image_base = "https://i.pximg.net"
        self.static_base = "https://s.pximg.net"
        self.api_base = "https://app-api.pixiv.net"
        self._ill_auth = self._author_table(ILLUST_RESIDUES, 1)
        self._nov_auth = self._author_table(NOVEL_RESIDUES, 2)
        self._ill_res = _inverse(self._ill_auth)
        self._nov_res = _inverse(self._nov_auth)
        self._illust_cached = lru_cache(maxsize=65536)(self._illust)
        self._novel_cached = lru_cache(maxsize=16384)(self._novel)

    def illust(self, idx: int) -> Work:
        w = self._illust_cached(idx)
        return dataclasses.replace(w, **self.changes[(False, idx)]) if (False, idx) in self.changes else w  # type: ignore[arg-type]

    def novel(self, idx: int) -> Work:
        w = self._novel_cached(idx)
        return dataclasses.replace(w, **self.changes[(True, idx)]) if (True, idx) in self.changes else w  # type: ignore[arg-type]

    def placeholder(self, name: str) -> str:
        return f"{self.static_base}/common/images/{name}"

    # --- change over time -----------------------------------------------------------------
    @property
    def revision(self) -> tuple[int, int]:
        """What answers depend on besides the request: the clock and the changes made so far."""
        return self.clock_advance, self.change_count

    def published(self, w: Work) -> bool:
        """Whether the work is out yet (see the ``unpublished`` knob)."""
        return w.ts <= self.now() - self.unpublished

    def change_work(self, novel: bool, work_id: int, status: str | None = None, reupload: bool = False) -> Work:
        """From now on the work is ``status`` (available, hidden, deleted) and/or re-uploaded (new file URLs)."""
        idx = self.novel_idx(work_id) if novel else self.illust_idx(work_id)
        if idx is None:
            raise ValueError(f"no {'novel' if novel else 'illust'} {work_id}")
        statuses: dict[str, dict[str, object]] = {
            "available": {"deleted": False, "hidden": None}, "hidden": {"deleted": False, "hidden": "unviewable"},
            "deleted": {"deleted": True, "hidden": None}}
        if status is not None and status not in statuses:
            raise ValueError(f"status must be one of {', '.join(statuses)}")
        change = self.changes.setdefault((novel, idx), {})
        change.update(statuses.get(status or "", {}))
        if reupload:
            change["upload_ts"] = self.now()
        self.change_count += 1
        return self.novel(idx) if novel else self.illust(idx)

    # --- time -----------------------------------------------------------------------------
    def now(self) -> int:
        return self.epoch + self.clock_advance

    def today(self) -> date:
        return datetime.fromtimestamp(self.now(), JST).date()

    @staticmethod
    def iso(ts: int) -> str:
        return _iso(ts)

    @staticmethod
    def date_path(ts: int) -> str:
        return _date_path(ts)

    def illust_ts(self, idx: int) -> int:
        return self.illust_start + idx * ILLUST_INTERVAL + (idx * 7919) % ILLUST_INTERVAL

    def novel_ts(self, idx: int) -> int:
        return self.novel_start + idx * NOVEL_INTERVAL + (idx * 7919) % NOVEL_INTERVAL

    def illust_idx_at(self, ts: int) -> int:
        """Smallest illust index created at or after ts (clamped to 0..n)."""
        return max(0, min(self.n_illusts, -(-(ts - self.illust_start) // ILLUST_INTERVAL)))

    def novel_idx_at(self, ts: int) -> int:
        return max(0, min(self.n_novels, -(-(ts - self.novel_start) // NOVEL_INTERVAL)))

    @staticmethod
    def day_start(d: date) -> int:
        return int(datetime(d.year, d.month, d.day, tzinfo=JST).timestamp())

    # --- ids ------------------------------------------------------------------------------
    def illust_idx(self, illust_id: int) -> int | None:
        idx = illust_id - ILLUST_BASE
        return idx if 0 <= idx < self.n_illusts else None

    def novel_idx(self, novel_id: int) -> int | None:
        idx = novel_id - NOVEL_BASE
        return idx if 0 <= idx < self.n_novels else None

    def user_exists(self, user_id: int) -> bool:
        return 1 <= user_id <= self.n_users

    def _author_table(self, residues: int, salt: int) -> list[int]:
        table = []
        for r in range(residues):
            h = mix(self.seed, K_AUTHOR, salt, r)
            if r == 0 and self.user_exists(self.config.login_user_id):
                table.append(self.config.login_user_id)  # the logged-in account has works of each kind
            elif r % 50 == 0:  # every 50th residue goes to one of the first 20 users: a few prolific artists
                table.append(1 + h % min(20, self.n_users))
            else:
                table.append(1 + h % self.n_users)
        return table

    def illust_residues(self, user_id: int) -> list[int]:
        return self._ill_res.get(user_id, [])

    def novel_residues(self, user_id: int) -> list[int]:
        return self._nov_res.get(user_id, [])

    # --- works ----------------------------------------------------------------------------
    def _common(self, idx: int, kind: int) -> tuple[bool, str | None, int, int, int]:
        h = mix(self.seed, K_DELETED, kind, idx)  # one hash, several independent bit ranges (see is_deleted)
        deleted = h % 100 == 0
        hv = (h >> 8) % 1000
        hidden = HIDDEN_KINDS[hv % 3] if hv < 40 and not deleted else None
        xr = 2 if idx % R18G_PERIOD == 0 else 1 if idx % R18_PERIOD == 0 else 0
        total = self.n_illusts if kind == K_ILLUST else self.n_novels
        ai = 2 if idx % AI_PERIOD == 0 else 1 if idx >= total * 3 // 10 else 0
        pop = int(3 * 2 ** (((h >> 24) % 10_000) / 10_000 * 13))  # 3 .. ~24000, long-tailed
        return deleted, hidden, xr, ai, pop

    def _illust(self, idx: int) -> Work:
        s = self.seed
        deleted, hidden, xr, ai, pop = self._common(idx, K_ILLUST)
        hp = mix(s, K_TYPE, idx)
        t = (hp >> 40) % 100
        typ = "ugoira" if t < 5 else "manga" if t < 20 else "illust"
        if typ == "ugoira":
            pages = 1
        elif typ == "manga":
            pages = 1 + hp % 20
        else:
            pages = 1 if hp % 10 < 7 else 2 + hp % 7
        ext = "jpg" if typ == "ugoira" or (hp >> 8) % 5 < 3 else "png"
        r, k = idx % ILLUST_RESIDUES, idx // ILLUST_RESIDUES
        chunk = k // ILLUST_SERIES_CHUNK
        in_series = typ == "manga" and mix(s, K_SERIES, 1, r, chunk) % 3 == 0
        series_id = chunk * ILLUST_RESIDUES + r + 1 if in_series else 0
        return Work(idx, ILLUST_BASE + idx, False, self.illust_ts(idx), deleted, hidden, typ, pages, xr, ai,
                    self._ill_auth[r], ext, pop, series_id, k % ILLUST_SERIES_CHUNK + 1 if in_series else 0)

    def _novel(self, idx: int) -> Work:
        s = self.seed
        deleted, hidden, xr, ai, pop = self._common(idx, K_NOVEL)
        r, k = idx % NOVEL_RESIDUES, idx // NOVEL_RESIDUES
        chunk = k // NOVEL_SERIES_CHUNK
        in_series = mix(s, K_SERIES, 2, r, chunk) % 3 == 0
        series_id = chunk * NOVEL_RESIDUES + r + 1 if in_series else 0
        pages = 1 + mix(s, K_PAGES, 2, idx) % 6
        return Work(idx, NOVEL_BASE + idx, True, self.novel_ts(idx), deleted, hidden, "novel", pages, xr, ai // 1,
                    self._nov_auth[r], "jpg", pop // 4 + 1, series_id, k % NOVEL_SERIES_CHUNK + 1 if in_series else 0)

    def work_tags(self, idx: int) -> list[Tag]:
        out = []
        for period, by_offset in TAG_GROUPS:
            t = by_offset.get(idx % period)
            if t is not None and (t.exclude is None or not t.exclude(idx)):
                out.append(t)
        return out

    def counts(self, w: Work) -> tuple[int, int]:
        """(total_bookmarks, total_view) at the world clock: they grow every world hour."""
        hours = max(0, (self.now() - w.ts) // 3600)
        bm = w.pop + hours * (1 + w.pop // 1000)
        return bm, bm * (6 + w.idx % 17) + hours * 3

    def series_members(self, series_id: int, novel: bool) -> list[int]:
        """Indexes of a series' works in order (deleted ones included; callers filter)."""
        residues = NOVEL_RESIDUES if novel else ILLUST_RESIDUES
        chunk_len = NOVEL_SERIES_CHUNK if novel else ILLUST_SERIES_CHUNK
        if series_id <= 0:
            return []
        r, chunk = (series_id - 1) % residues, (series_id - 1) // residues
        total = self.n_novels if novel else self.n_illusts
        out = []
        for j in range(chunk_len):
            idx = r + (chunk * chunk_len + j) * residues
            if idx >= total:
                break
            w = self.novel(idx) if novel else self.illust(idx)
            if w.series_id == series_id:
                out.append(idx)
        return out


def is_deleted(seed: int, kind: int, idx: int) -> bool:
    return mix(seed, K_DELETED, kind, idx) % 100 == 0


@lru_cache(maxsize=1 << 16)
def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, JST).isoformat()


@lru_cache(maxsize=1 << 16)
def _date_path(ts: int) -> str:
    return datetime.fromtimestamp(ts, JST).strftime("%Y/%m/%d/%H/%M/%S")


def _groups() -> list[tuple[int, dict[int, Tag]]]:
    groups: dict[int, dict[int, Tag]] = {}
    for t in TAGS:
        groups.setdefault(t.period, {})[t.offset] = t
    return list(groups.items())


TAG_GROUPS = _groups()


def _inverse(table: list[int]) -> dict[int, list[int]]:
    inv: dict[int, list[int]] = {}
    for r, u in enumerate(table):
        inv.setdefault(u, []).append(r)
    return inv
