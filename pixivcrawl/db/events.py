"""What a batch changes in the archive: works new to it, hidden, deleted, restored, re-uploaded, retitled, retagged."""

from __future__ import annotations

import collections
import datetime as dt
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlalchemy as sa

from pixivcrawl.db.reads import rows_in
from pixivcrawl.db.rules import UniqueRows, dedupe, rules_of
from pixivcrawl.db.schema import TABLES

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from pixivcrawl.db.rules import Row, Rows

EVENTS = ("new", "hidden", "deleted", "restored", "reuploaded", "retitled", "retagged")
#: work table -> (kind, its tag table, the tag table's work column)
WORKS = {"illusts": ("illust", "illust_tags", "illust_id"), "novels": ("novel", "novel_tags", "novel_id")}


@dataclass
class Changes:
    """The ``work_events`` rows of one batch (without ``run_id``) and how many users were new."""

    events: list[Row] = field(default_factory=list)
    new_users: int = 0

    def count(self) -> collections.Counter[str]:
        return collections.Counter(e["event"] for e in self.events)

    def changed_works(self) -> int:
        return len({(e["kind"], e["work_id"]) for e in self.events if e["event"] != "new"})


class Before(NamedTuple):
    """What the archive held of a work before the batch."""

    status: str
    title: str | None


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path


def _by_work(connection: Connection, table: sa.Table, column: str, ids: Sequence[int], *values: str) -> dict[int, set[Any]]:
    """``{work id: {values}}`` of a child table, in one query per chunk of ids."""
    found: dict[int, set[Any]] = collections.defaultdict(set)
    for row in rows_in(connection, table, column, ids, (column, *values)):
        found[row[0]].add(row[1:] if len(row) > 2 else row[1])
    return found


def _rows_by_work(rows: list[Row], column: str, ids: set[int], *values: str) -> dict[int, set[Any]]:
    """``{work id: {values}}`` of a batch's child rows, for the works of ``ids`` only."""
    found: dict[int, set[Any]] = collections.defaultdict(set)
    value = itemgetter(*values)  # a tuple of several values, one value alone
    for row in rows:
        if (work_id := row[column]) in ids:
            found[work_id].add(value(row))
    return found


def find_changes(connection: Connection, rows: Rows, at: dt.datetime) -> Changes:
    """Compare the works and users of ``rows`` with the archive before they are written.

    A work the archive does not hold is ``new``; one whose status moves is
    ``hidden``, ``deleted`` or ``restored``; an available work that stays
    available is ``retitled`` (new non-blank title), ``retagged`` (another tag
    set) or ``reuploaded`` (other original file URLs). Each table is read once
    per batch (per 900 ids), never once per work; tags and pages only for works
    that were and stay available. ``rows`` may be :class:`UniqueRows` (deduped).
    """
    changes = Changes()
    users = sorted({r["id"] for r in rows.get("users") or []})
    if users:
        table = TABLES["users"]
        known = {i for (i,) in rows_in(connection, table, "id", users, ("id",))}
        changes.new_users = len(users) - len(known)
    for name, (kind, tag_table, tag_column) in WORKS.items():
        works = rows.get(name) or []
        if not isinstance(rows, UniqueRows):
            works = dedupe(rules_of(TABLES[name]), works)
        if not works:
            continue
        table = TABLES[name]
        ids = sorted(w["id"] for w in works)
        old = {r[0]: Before(*r[1:]) for r in rows_in(connection, table, "id", ids, ("id", "status", "title"))}
        # Only works that were and stay available can be retitled, retagged or re-uploaded.
        steady = sorted(w["id"] for w in works if w["status"] == "available" and w["id"] in old and old[w["id"]].status == "available")
        steady_ids = set(steady)
        old_tags: dict[int, set[Any]] = {}
        new_tags: dict[int, set[Any]] = {}
        old_pages: dict[int, set[Any]] = {}
        new_pages: dict[int, set[Any]] = {}
        if steady:  # a batch of new works has nothing to compare
            old_tags = _by_work(connection, TABLES[tag_table], tag_column, steady, "tag")
            new_tags = _rows_by_work(rows.get(tag_table) or [], tag_column, steady_ids, "tag")
            if kind == "illust":
                pages = TABLES["illust_pages"]
                old_pages = _by_work(connection, pages, "illust_id", steady, "page", "original_url")
                new_pages = _rows_by_work(rows.get("illust_pages") or [], "illust_id", steady_ids, "page", "original_url")

        def event(work_id: int, what: str, detail: dict[str, Any] | None = None, kind: str = kind) -> None:
            changes.events.append({"kind": kind, "work_id": work_id, "event": what, "at": at, "detail": detail})

        for work in works:
            work_id, status, before = work["id"], work["status"], old.get(work["id"])
            if before is None:
                event(work_id, "new", {"status": status})
                continue
            if before.status != status:
                event(work_id, "restored" if status == "available" else status, {"old": before.status, "new": status})
                continue
            if work_id not in steady_ids:
                continue
            title = work.get("title")
            if title and title != before.title:
                event(work_id, "retitled", {"old": before.title, "new": title})
            if old_tags.get(work_id, set()) != new_tags.get(work_id, set()):
                event(work_id, "retagged", {"old": sorted(old_tags.get(work_id, ())), "new": sorted(new_tags.get(work_id, ()))})
            if kind == "illust" and work_id in new_pages and old_pages.get(work_id):
                old_urls = {u for _, u in old_pages[work_id] if u}
                new_urls = {u for _, u in new_pages[work_id] if u}
                # The path says which upload it is; the host may differ (mirrors, a sandbox's port).
                if new_urls and new_urls != old_urls and {_path(u) for u in old_urls} != {_path(u) for u in new_urls}:
                    event(work_id, "reuploaded", {"old": sorted(old_urls), "new": sorted(new_urls)})
    return changes
