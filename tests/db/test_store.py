"""The store pipeline's rules: idempotent upserts that never lose archived data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.db.engine import create_engine, upgrade
from pixivcrawl.db.rows import Rows, merge_rows, rows_for
from pixivcrawl.db.schema import TABLES as TABLES_BY_NAME
from pixivcrawl.db.upsert import Writer
from pixivcrawl.models import RankingEntry
from pixivcrawl.parsing import parse_novel
from tests.db.factories import LIMIT, deleted_illust, hidden_illust, illust, query, store, user_detail, with_files

TABLES = ("users", "illusts", "illust_pages", "tags", "illust_tags", "rankings", "work_stats", "series")


MOVING = {"last_seen_at", "crawled_at"}


def snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of TABLES, without the columns that say when a row was last seen."""
    tables = {t: [c.name for c in TABLES_BY_NAME[t].columns if c.name not in MOVING] for t in TABLES}
    return {t: sorted(query(url, f"SELECT {', '.join(cols)} FROM {t}"), key=repr) for t, cols in tables.items()}


@deferred_f_from_coro_f
async def test_same_items_twice_leave_the_same_rows(db_url: str) -> None:
    items = [
        with_files(illust(1, pages=2, tags=[("海", "sea"), ("夏", None)])),
        illust(2, series={"id": 77, "title": "Summer"}),
        RankingEntry(mode="day", date=dt.date(2025, 2, 4), rank=1, illust_id=1),
    ]
    crawler = await store(db_url, items)
    first = snapshot(db_url)
    assert {t: len(rows) for t, rows in first.items()} == {
        "users": 1, "illusts": 2, "illust_pages": 3, "tags": 2, "illust_tags": 3,
        "rankings": 1, "work_stats": 2, "series": 1,
    }
    assert crawler.stats.get_value("pixivcrawl/db/items_stored") == 3
    assert crawler.stats.get_value("pixivcrawl/db/batches") == 1
    assert crawler.stats.get_value("pixivcrawl/db/rows_upserted/illust_pages") == 3

    await store(db_url, items)
    assert snapshot(db_url) == first
    [(first_seen, last_seen)] = query(db_url, "SELECT first_seen_at, last_seen_at FROM illusts WHERE id = 1")
    assert str(first_seen) < str(last_seen)


@deferred_f_from_coro_f
async def test_hidden_or_deleted_later_keeps_the_archived_metadata(db_url: str) -> None:
    await store(db_url, [with_files(illust(1, pages=2, tags=[("海", "sea")])), illust(2)])
    await store(db_url, [hidden_illust(1), deleted_illust(2)])
    rows = query(db_url, "SELECT id, title, user_id, page_count, total_bookmarks, status, restriction FROM illusts ORDER BY id")
    assert rows == [
        (1, "work 1", 2131660, 2, 10, "hidden", "limit_sanity_level"),
        (2, "work 2", 2131660, 1, 10, "deleted", "limit_unknown"),
    ]
    assert query(db_url, "SELECT illust_id, tag FROM illust_tags ORDER BY illust_id") == [(1, "海"), (2, "海")]
    assert query(db_url, "SELECT count(*), count(local_path) FROM illust_pages WHERE illust_id = 1") == [(2, 2)]
    assert query(db_url, "SELECT name, account FROM users") == [("artist", "artist_acc")]
    assert query(db_url, "SELECT count(*) FROM work_stats") == [(2,)]


@deferred_f_from_coro_f
async def test_first_seen_hidden_then_available_fills_the_row(db_url: str) -> None:
    await store(db_url, [hidden_illust(5)])
    await store(db_url, [illust(5)])
    assert query(db_url, "SELECT title, status, restriction FROM illusts") == [("work 5", "available", None)]


@deferred_f_from_coro_f
async def test_tags_are_replaced(db_url: str) -> None:
    await store(db_url, [illust(1, tags=[("海", "sea"), ("夏", "summer")])])
    await store(db_url, [illust(1, tags=[("夏", None), ("空", "sky")])])
    assert query(db_url, "SELECT tag, position FROM illust_tags ORDER BY position") == [("夏", 0), ("空", 1)]
    # A translation seen once is not forgotten when a later answer has none.
    assert dict(query(db_url, "SELECT name, translated_name FROM tags"))["夏"] == "summer"


@deferred_f_from_coro_f
async def test_a_run_without_downloads_keeps_local_files(db_url: str) -> None:
    await store(db_url, [with_files(illust(1, pages=2))])
    before = query(db_url, "SELECT page, local_path, size, sha256, downloaded_at FROM illust_pages ORDER BY page")
    await store(db_url, [illust(1, pages=2)])
    assert query(db_url, "SELECT page, local_path, size, sha256, downloaded_at FROM illust_pages ORDER BY page") == before
    assert before[1][1] == "2131660/1_p1.jpg"


@deferred_f_from_coro_f
async def test_work_stats_get_a_row_only_when_counts_change(db_url: str) -> None:
    await store(db_url, [illust(1, views=100, bookmarks=10), illust(2, views=5, bookmarks=1)])
    await store(db_url, [illust(1, views=100, bookmarks=10), illust(2, views=6, bookmarks=1)])
    await store(db_url, [illust(1, views=100, bookmarks=10, total_comments=None)])
    rows = query(db_url, "SELECT work_id, total_view FROM work_stats ORDER BY work_id, captured_at")
    assert rows == [(1, 100), (2, 5), (2, 6)]


@deferred_f_from_coro_f
async def test_embedded_user_does_not_wipe_the_profile(db_url: str) -> None:
    await store(db_url, [user_detail(2131660)])
    await store(db_url, [illust(1)])
    [(name, comment, profile, workspace)] = query(db_url, "SELECT name, comment, profile, workspace FROM users")
    assert (name, comment) == ("artist", "hello")
    assert "Japan" in str(profile) and "desktop" in str(workspace)


@deferred_f_from_coro_f
async def test_rankings_keep_every_date_and_mode(db_url: str) -> None:
    entries = [
        RankingEntry(mode=mode, date=dt.date(2025, 2, day), rank=rank, illust_id=illust_id)
        for mode in ("day", "week")
        for day in (3, 4)
        for rank, illust_id in ((1, 10), (2, 11))
    ]
    await store(db_url, entries)
    # A re-crawl after work 10 left the ranking moves 11 up; it does not duplicate it.
    await store(db_url, [RankingEntry(mode="day", date=dt.date(2025, 2, 4), rank=1, illust_id=11)])
    assert query(db_url, "SELECT count(*) FROM rankings") == [(8,)]
    assert query(db_url, "SELECT rank FROM rankings WHERE mode = 'day' AND date = '2025-02-04' AND kind = 'illust' AND work_id = 11") == [(1,)]


@deferred_f_from_coro_f
async def test_a_work_twice_in_one_batch_adds_one_stats_row(db_url: str) -> None:
    # A trending page and a detail, or two related pages, list the same work in one batch.
    await store(db_url, [illust(1, views=100), illust(2), illust(1, views=100)])
    assert query(db_url, "SELECT work_id, total_view FROM work_stats ORDER BY work_id") == [(1, 100), (2, 100)]
    await store(db_url, [illust(1, views=100), illust(1, views=150), illust(1, views=150)])
    assert query(db_url, "SELECT total_view FROM work_stats WHERE work_id = 1 ORDER BY captured_at") == [(100,), (150,)]


@deferred_f_from_coro_f
async def test_a_work_first_seen_hidden_has_no_placeholder_values(db_url: str) -> None:
    await store(db_url, [hidden_illust(5)])
    assert query(
        db_url, "SELECT status, width, height, page_count, total_view, total_bookmarks, sanity_level FROM illusts"
    ) == [("hidden", None, None, None, None, None, None)]
    assert query(db_url, "SELECT count(*) FROM work_stats") == [(0,)]
    await store(db_url, [illust(5)])
    assert query(db_url, "SELECT status, width, height, page_count, total_view FROM illusts") == [
        ("available", 1200, 1700, 1, 100)
    ]


@deferred_f_from_coro_f
async def test_a_novel_first_seen_hidden_has_no_placeholder_values(db_url: str) -> None:
    url = LIMIT.format("sanity_level")
    placeholder = {
        "id": 9, "title": "", "caption": "", "visible": False, "page_count": 0, "text_length": 0,
        "total_view": 0, "total_bookmarks": 0, "image_urls": {"square_medium": url, "medium": url},
        "user": {"id": 4, "name": "", "account": ""}, "tags": [], "series": {},
    }
    await store(db_url, [parse_novel(placeholder)])
    assert query(db_url, "SELECT status, page_count, text_length, total_view, total_bookmarks FROM novels") == [
        ("hidden", None, None, None, None)
    ]


def merge_all(batch: list[Rows]) -> Rows:
    rows: Rows = {}
    for item_rows in batch:
        merge_rows(rows, item_rows)
    return rows


def test_a_large_batch_takes_few_statements_and_leaves_the_rows_of_one_item_at_a_time(tmp_path: Path) -> None:
    # SQLite: a statement executed once per row costs a statement journal per row on a table
    # with triggers; a batch goes in statements of many rows, by the same merge rules.
    now = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)

    def rows(items: list[Any]) -> list[Rows]:
        return [rows_for(item, now + dt.timedelta(seconds=i)) for i, item in enumerate(items)]

    def first() -> list[Any]:
        return [illust(i, user=(1000 + i % 70, f"u{i % 70}"), pages=2, tags=[(f"t{i % 40}", None), (f"s{i}", "s")])
                for i in range(1, 151)]

    def second() -> list[Any]:
        return [hidden_illust(i) if i % 3 == 0 else illust(i, title=f"again {i}", tags=[(f"t{i % 40}", "t")])
                for i in range(1, 151)]

    url_batch, url_each = f"sqlite:///{tmp_path / 'batch.db'}", f"sqlite:///{tmp_path / 'each.db'}"
    engines = [create_engine(url_batch), create_engine(url_each)]
    executions: list[int] = []  # of each upsert of the batch: its executemany's rows, else 1

    def count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.startswith("INSERT INTO"):
            executions.append(len(parameters) if executemany else 1)

    for engine in engines:
        upgrade(engine)
    for items in (first(), second()):
        batch = rows(items)
        sa.event.listen(engines[0], "before_cursor_execute", count)
        with engines[0].begin() as connection:
            Writer(engines[0].dialect).write(connection, merge_all(batch))
        sa.event.remove(engines[0], "before_cursor_execute", count)
        with engines[1].begin() as connection:
            for item_rows in batch:
                Writer(engines[1].dialect).write(connection, item_rows)
    for engine in engines:
        engine.dispose()
    assert 0 < sum(executions) < 500  # one per row: over 1,500
    assert snapshot(url_batch) == snapshot(url_each)
    assert query(url_batch, "SELECT count(*), sum(status = 'hidden') FROM illusts") == [(150, 50)]


def test_a_sqlite_archive_checkpoints_every_few_batches_and_keeps_a_small_page_cache(tmp_path: Path) -> None:
    # A batch dirties more pages than SQLite's default checkpoint (1000 pages) waits for; the page
    # cache stays SQLite's 2 MB per connection, which keeps peak RSS flat over a long crawl.
    engine = create_engine(f"sqlite:///{tmp_path / 'pixiv.db'}")
    with engine.connect() as connection:
        settings = [connection.exec_driver_sql(f"PRAGMA {p}").scalar() for p in ("cache_size", "wal_autocheckpoint")]
    engine.dispose()
    assert settings == [-2000, 4000]
