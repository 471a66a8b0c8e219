"""work_events: what each run found new or changed, and the new/changed counts of crawl_runs."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.db.engine import create_engine, upgrade
from pixivcrawl.db.events import find_changes
from pixivcrawl.db.rows import Rows, merge_rows, rows_for
from pixivcrawl.db.upsert import Writer
from tests.db.factories import deleted_illust, hidden_illust, illust, query, store

LATER = "2025-03-01T10:00:00+09:00"  # a re-upload moves the file URLs to its own date


def events(url: str, run_id: int) -> list[tuple[str, int, str]]:
    return query(url, "SELECT event, work_id, kind FROM work_events WHERE run_id = :r ORDER BY work_id, event", r=run_id)


def counts(url: str, run_id: int) -> dict[str, Any]:
    [(raw,)] = query(url, "SELECT counts FROM crawl_runs WHERE id = :r", r=run_id)
    return raw if isinstance(raw, dict) else json.loads(raw)


@deferred_f_from_coro_f
async def test_each_run_records_new_and_changed_works(db_url: str) -> None:
    first = [illust(i, tags=[("海", "sea")]) for i in range(1, 6)]
    crawler = await store(db_url, first, record_run="user")
    assert events(db_url, 1) == [("new", i, "illust") for i in range(1, 6)]
    assert crawler.stats.get_value("pixivcrawl/works/new") == 5
    assert crawler.stats.get_value("pixivcrawl/users/new") == 1
    assert counts(db_url, 1)["new"] == {"works": 5, "users": 1, "files": 0, "bytes": 0}

    second = [
        illust(1, title="Summer sea", tags=[("海", "sea")]),
        illust(2, tags=[("空", "sky")]),
        illust(3, tags=[("海", "sea")], created=LATER),
        hidden_illust(4),
        deleted_illust(5),
        illust(6),
        illust(6),  # twice in one batch: one event
    ]
    crawler = await store(db_url, second, record_run="user")
    assert events(db_url, 2) == [
        ("retitled", 1, "illust"), ("retagged", 2, "illust"), ("reuploaded", 3, "illust"),
        ("hidden", 4, "illust"), ("deleted", 5, "illust"), ("new", 6, "illust"),
    ]
    assert query(db_url, "SELECT detail FROM work_events WHERE run_id = 2 AND event = 'retitled'")[0][0] in (
        {"old": "work 1", "new": "Summer sea"}, json.dumps({"old": "work 1", "new": "Summer sea"}))
    assert counts(db_url, 2)["events"] == {"deleted": 1, "hidden": 1, "new": 1, "retagged": 1, "retitled": 1, "reuploaded": 1}
    assert counts(db_url, 2)["changed_works"] == 5 and counts(db_url, 2)["new"]["works"] == 1
    assert crawler.stats.get_value("pixivcrawl/users/new") == 0

    await store(db_url, [illust(4, tags=[("海", "sea")]), illust(1, title="Summer sea", tags=[("海", "sea")])], record_run="user")
    assert events(db_url, 3) == [("restored", 4, "illust")]
    assert counts(db_url, 3)["changed_works"] == 1 and counts(db_url, 3)["new"]["works"] == 0


def test_changes_are_found_with_a_few_queries_per_batch_whatever_its_size(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    upgrade(engine)
    now = dt.datetime.now(dt.UTC)

    def batch(ids: range, title: str) -> Rows:
        rows: Rows = {}
        for i in ids:
            merge_rows(rows, rows_for(illust(i, title=f"{title} {i}"), now))
        return rows

    with engine.begin() as connection:
        Writer(engine.dialect).write(connection, batch(range(1, 301), "first"))
    selects: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: selects.append(a[2]) if a[2].lstrip().upper().startswith("SELECT") else None)
    found = []
    for size in (1, 300):
        selects.clear()
        with engine.begin() as connection:
            changes = find_changes(connection, batch(range(1, size + 1), "second"), now)
        found.append((len(selects), changes.count()["retitled"]))
    engine.dispose()
    assert found == [(4, 1), (4, 300)]  # users, illusts, their tags, their pages


def test_novels_are_retitled_retagged_and_deleted_too(sqlite_url: str) -> None:
    now = dt.datetime.now(dt.UTC)

    def novel(novel_id: int, title: str, tags: list[str], status: str = "available") -> Rows:
        return {
            "novels": [{"id": novel_id, "title": title, "status": status, "first_seen_at": now, "last_seen_at": now}],
            "novel_tags": [{"novel_id": novel_id, "tag": t, "position": p} for p, t in enumerate(tags)] if status == "available" else [],
            "tags": [{"name": t} for t in tags],
        }

    engine = create_engine(sqlite_url)
    upgrade(engine)
    with engine.begin() as connection:
        for rows in (novel(10, "灯台守", ["海"]), novel(11, "short", ["空"]), novel(12, "gone", ["夏"])):
            Writer(engine.dialect).write(connection, rows)
    later: Rows = {"novels": [], "novel_tags": [], "tags": []}
    for rows in (novel(10, "灯台守 改", ["海"]), novel(11, "short", ["空", "夏"]), novel(12, "", [], "deleted"), novel(13, "new", [])):
        for table, table_rows in rows.items():
            later[table] += table_rows
    with engine.begin() as connection:
        changes = find_changes(connection, later, now)
    engine.dispose()
    assert sorted((e["work_id"], e["event"], e["kind"]) for e in changes.events) == [
        (10, "retitled", "novel"), (11, "retagged", "novel"), (12, "deleted", "novel"), (13, "new", "novel")]


def test_the_same_files_from_another_host_are_no_reupload(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    upgrade(engine)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as connection:
        Writer(engine.dialect).write(connection, rows_for(illust(1, pages=2), now))
    mirrored = rows_for(illust(1, pages=2), now)
    for page in mirrored["illust_pages"]:
        page["original_url"] = page["original_url"].replace("https://i.pximg.net", "http://127.0.0.1:8701")
    moved = rows_for(illust(1, pages=2, created=LATER), now)
    with engine.begin() as connection:
        assert find_changes(connection, mirrored, now).events == []
        assert [e["event"] for e in find_changes(connection, moved, now).events] == ["reuploaded"]
    engine.dispose()
