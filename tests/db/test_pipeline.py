"""StorePipeline and CrawlRunRecorder as Scrapy components: flushing, failures, crawl records."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import sqlalchemy as sa
from scrapy import Spider
from scrapy.exceptions import CloseSpider
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from pixivcrawl.db.engine import create_engine, upgrade
from pixivcrawl.db.schema import TABLES
from pixivcrawl.extensions import run_status, spider_arguments
from pixivcrawl.models import RankingEntry
from pixivcrawl.pipelines.store import StorePipeline
from tests.db.factories import illust, query

UNREACHABLE = "postgresql+psycopg://archive:hunter2@127.0.0.1:9/pixiv"


def make_pipeline(url: str, **settings: Any) -> tuple[StorePipeline, Any]:
    crawler = get_crawler(settings_dict={"PIXIV_DATABASE_URL": url, "PIXIV_DB_BATCH_SIZE": 500,
                                         "PIXIV_DB_FLUSH_INTERVAL": 0,
        "PIXIV_RUN_HEARTBEAT_INTERVAL": 60, **settings})
    crawler.stats.open_spider()
    return build_from_crawler(StorePipeline, crawler), crawler


async def eventually(check: Callable[[], bool], within: float = 3.0) -> bool:
    for _ in range(int(within / 0.02)):
        if check():
            return True
        await asyncio.sleep(0.02)
    return check()


@deferred_f_from_coro_f
async def test_batches_flush_at_batch_size_and_on_close(sqlite_url: str) -> None:
    pipeline, crawler = make_pipeline(sqlite_url, PIXIV_DB_BATCH_SIZE=2)
    await pipeline.open_spider()
    for illust_id in (1, 2, 3):
        item = illust(illust_id)
        assert await pipeline.process_item(item) is item
    assert await eventually(lambda: query(sqlite_url, "SELECT count(*) FROM illusts") == [(2,)])
    await pipeline.close_spider()
    assert query(sqlite_url, "SELECT count(*) FROM illusts") == [(3,)]
    assert crawler.stats.get_value("pixivcrawl/db/batches") == 2
    assert crawler.stats.get_value("pixivcrawl/db/items_stored") == 3
    assert crawler.stats.get_value("pixivcrawl/db/rows_upserted/illusts") == 3


@deferred_f_from_coro_f
async def test_items_arriving_while_the_database_is_behind_wait_instead_of_growing_the_batches(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline, crawler = make_pipeline(sqlite_url, PIXIV_DB_BATCH_SIZE=2)
    await pipeline.open_spider()
    write = pipeline.archive.write
    batches: list[int] = []

    def slow(rows: Any, **kwargs: Any) -> Any:
        batches.append(len(rows["illusts"]))
        time.sleep(0.05)
        return write(rows, **kwargs)

    monkeypatch.setattr(pipeline.archive, "write", slow)
    # A crawl hands the store many items at once (CONCURRENT_ITEMS per page, several pages).
    await asyncio.gather(*(pipeline.process_item(illust(i)) for i in range(1, 11)))
    await pipeline.close_spider()
    assert batches == [2, 2, 2, 2, 2]
    assert query(sqlite_url, "SELECT count(*) FROM illusts") == [(10,)]
    assert crawler.stats.get_value("pixivcrawl/db/batches") == 5


@deferred_f_from_coro_f
async def test_a_partial_batch_is_written_on_the_timer(sqlite_url: str) -> None:
    pipeline, _ = make_pipeline(sqlite_url, PIXIV_DB_FLUSH_INTERVAL=0.05)
    await pipeline.open_spider()
    await pipeline.process_item(illust(1))
    assert await eventually(lambda: query(sqlite_url, "SELECT count(*) FROM illusts") == [(1,)])
    await pipeline.close_spider()


@deferred_f_from_coro_f
async def test_unreachable_database_closes_the_spider_with_one_masked_error(caplog: pytest.LogCaptureFixture) -> None:
    pipeline, _ = make_pipeline(UNREACHABLE)
    with pytest.raises(CloseSpider) as raised:
        await pipeline.open_spider()
    assert raised.value.reason == "database_unreachable"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "postgresql+psycopg://archive:***@127.0.0.1:9/pixiv" in errors[0].getMessage()
    assert "hunter2" not in caplog.text
    await pipeline.close_spider()


@deferred_f_from_coro_f
async def test_an_item_the_database_refuses_is_recorded_in_rejects_and_the_crawl_goes_on(
    sqlite_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline, crawler = make_pipeline(sqlite_url, PIXIV_DB_BATCH_SIZE=1)
    await pipeline.open_spider()
    write = pipeline.archive.writer.write
    # The batch, then the item alone: a data error, not the machine's.
    calls = iter([RuntimeError("bad value"), RuntimeError("bad value"), None])

    def flaky(connection: Any, rows: Any) -> dict[str, int]:
        if (error := next(calls, None)) is not None:
            raise error
        return write(connection, rows)

    monkeypatch.setattr(pipeline.archive.writer, "write", flaky)
    await pipeline.process_item(illust(1))
    await pipeline.process_item(illust(2))
    await pipeline.close_spider()
    assert query(sqlite_url, "SELECT id FROM illusts") == [(2,)]
    assert query(sqlite_url, "SELECT kind, object_id, reason, error FROM rejects") == [("illust", 1, "store", "bad value")]
    assert crawler.stats.get_value("pixivcrawl/rejected_items") == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "illust 1 (bad value)" in warning.getMessage()


@deferred_f_from_coro_f
async def test_items_without_a_table_pass_through(sqlite_url: str) -> None:
    pipeline, crawler = make_pipeline(sqlite_url)
    await pipeline.open_spider()
    item = {"not": "a model"}
    assert await pipeline.process_item(item) is item
    await pipeline.close_spider()
    assert crawler.stats.get_value("pixivcrawl/db/items_skipped/dict") == 1


@deferred_f_from_coro_f
async def test_archived_ids_are_the_available_works(sqlite_url: str) -> None:
    from tests.db.factories import hidden_illust

    pipeline, _ = make_pipeline(sqlite_url)
    await pipeline.open_spider()
    for item in (illust(1), illust(2), hidden_illust(3)):
        await pipeline.process_item(item)
    await pipeline.close_spider()

    from pixivcrawl.db import Archive

    archive = Archive.from_url(sqlite_url)
    assert await archive.archived_ids("illust", [1, 2, 3, 4]) == {1, 2}
    assert await archive.archived_ids("illust", iter([2, 3])) == {2}
    assert await archive.archived_ids("novel", [1]) == set()
    archive.dispose()


class ItemsSpider(Spider):
    """Yields the items it is given: the crawl path of real spiders without HTTP."""

    name = "items"

    def __init__(self, items: list[Any], fail: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items, self.fail = items, fail
        self.args = {"mode": "day", "date": dt.date(2025, 2, 4), "refresh_token": "tok-123", "access_token": "a"}

    async def start(self) -> AsyncIterator[Any]:
        for item in self.items:
            yield item
        if self.fail:
            raise CloseSpider(self.fail)


async def crawl(url: str, items: list[Any], **settings: Any) -> Any:
    crawler = get_crawler(ItemsSpider, {
        "PIXIV_DATABASE_URL": url, "PIXIV_DB_BATCH_SIZE": 500, "PIXIV_DB_FLUSH_INTERVAL": 0,
        "PIXIV_RUN_HEARTBEAT_INTERVAL": 60,
        "ITEM_PIPELINES": {StorePipeline: 800},
        "EXTENSIONS": {"pixivcrawl.extensions.CrawlRunRecorder": 100},
        **settings,
    })
    await crawler.crawl_async(items=items, fail=settings.pop("fail", None))
    return crawler


@deferred_f_from_coro_f
async def test_a_crawl_is_recorded_in_crawl_runs(db_url: str) -> None:
    items = [illust(1), illust(2), RankingEntry(mode="day", date=dt.date(2025, 2, 4), rank=1, illust_id=1)]
    crawler = await crawl(db_url, items)
    assert crawler.stats.get_value("finish_reason") == "finished"
    [(spider, arguments, status, reason, counts, finished)] = query(
        db_url, "SELECT spider, arguments, status, finish_reason, counts, finished_at FROM crawl_runs"
    )
    assert (spider, status, reason) == ("items", "finished", "finished")
    assert finished is not None
    text = str(arguments) + str(counts)
    assert "tok-123" not in text and "refresh_token" not in text and "2025-02-04" in text
    assert '"illusts": 2' in text.replace("'", '"') and '"items_scraped": 3' in text.replace("'", '"')


@deferred_f_from_coro_f
async def test_unreachable_database_stops_the_crawl_and_the_record_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    crawler = await crawl(UNREACHABLE, [illust(1)])
    assert crawler.stats.get_value("finish_reason") == "database_unreachable"
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "archive:***@" in errors[0]
    assert "hunter2" not in caplog.text


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        ("finished", "finished"),
        ("shutdown", "interrupted"),
        ("closespider_timeout", "interrupted"),
        ("closespider_itemcount", "interrupted"),
        ("closespider_errorcount", "failed"),
        ("database_unreachable", "failed"),
        ("pixiv_auth_failed", "failed"),
    ],
)
def test_run_status(reason: str, status: str) -> None:
    assert run_status(reason) == status


@deferred_f_from_coro_f
async def test_user_stop_is_interrupted_and_a_component_stop_failed(sqlite_url: str) -> None:
    # "shutdown" is the reason Scrapy gives a Ctrl-C / SIGTERM stop.
    await crawl(sqlite_url, [illust(1)], fail="shutdown")
    await crawl(sqlite_url, [illust(9)], fail="pixiv_auth_failed")
    assert query(sqlite_url, "SELECT status, finish_reason FROM crawl_runs ORDER BY id") == [
        ("interrupted", "shutdown"),
        ("failed", "pixiv_auth_failed"),
    ]


def test_spider_arguments_without_args_use_public_attributes() -> None:
    spider = Spider(name="x", user_id="11", password="p", session_id="s")
    assert spider_arguments(spider) == {"user_id": "11"}


# --- lost runs ------------------------------------------------------------------------------------


def _running_row(url: str, **values: Any) -> None:
    engine = create_engine(url)
    upgrade(engine)
    now = dt.datetime.now(dt.UTC)
    values.setdefault("started_at", now - dt.timedelta(hours=1))
    with engine.begin() as connection:
        connection.execute(TABLES["crawl_runs"].insert().values(spider="ranking", arguments={}, status="running",
                                                                **values))
    engine.dispose()


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@deferred_f_from_coro_f
async def test_a_run_whose_process_is_gone_is_marked_lost_by_the_next_crawl(db_url: str, caplog) -> None:
    now = dt.datetime.now(dt.UTC)
    host = socket.gethostname()
    _running_row(db_url, host=host, pid=_dead_pid(), heartbeat_at=now)                      # killed here
    _running_row(db_url, host="elsewhere", pid=1, heartbeat_at=now - dt.timedelta(hours=1))  # silent elsewhere
    _running_row(db_url, host="elsewhere", pid=1, heartbeat_at=now)                          # alive elsewhere
    _running_row(db_url, host=host, pid=os.getpid(), heartbeat_at=now, started_at=now)       # alive here
    _running_row(db_url, host=host, pid=os.getpid(), heartbeat_at=now)       # its pid reused by a newer process
    with caplog.at_level(logging.WARNING):
        await crawl(db_url, [illust(1)])
    rows = query(db_url, "SELECT id, status, finish_reason FROM crawl_runs ORDER BY id")
    assert rows == [(1, "lost", "lost"), (2, "lost", "lost"), (3, "running", None), (4, "running", None),
                    (5, "lost", "lost"), (6, "finished", "finished")]
    assert "Crawl runs 1, 2, 5 were left running by a process that is gone: marked lost" in caplog.text


@deferred_f_from_coro_f
async def test_a_running_crawl_renews_its_heartbeat(sqlite_url: str) -> None:
    beats: list[Any] = []

    class SlowSpider(ItemsSpider):
        async def start(self) -> AsyncIterator[Any]:
            for _ in range(3):
                await asyncio.sleep(0.1)
                beats.extend(query(sqlite_url, "SELECT heartbeat_at FROM crawl_runs"))
                yield {"n": 1}

    crawler = get_crawler(SlowSpider, {
        "PIXIV_DATABASE_URL": sqlite_url, "PIXIV_RUN_HEARTBEAT_INTERVAL": 0.05,
        "EXTENSIONS": {"pixivcrawl.extensions.CrawlRunRecorder": 100},
    })
    await crawler.crawl_async(items=[])
    assert len(set(beats)) >= 2
    [(host, pid, status)] = query(sqlite_url, "SELECT host, pid, status FROM crawl_runs")
    assert (host, pid, status) == (socket.gethostname(), os.getpid(), "finished")


@deferred_f_from_coro_f
async def test_a_batch_retried_after_an_outage_counts_its_new_works_once(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pixivcrawl.db.archive import Archive
    from pixivcrawl.rejects import Reject, RejectedItem

    pipeline, crawler = make_pipeline(sqlite_url, PIXIV_DB_RETRY_TIMES=2, PIXIV_DB_RETRY_BACKOFF=0,
                                      PIXIV_DB_RETRY_BACKOFF_MAX=0)
    await pipeline.open_spider()
    record = Archive._record_rejects
    faults = iter([sa.exc.OperationalError("INSERT INTO rejects", {}, Exception("disk I/O error"))])

    def outage_at_the_rejects(*args: Any) -> None:
        if (fault := next(faults, None)) is not None:
            raise fault
        record(*args)

    monkeypatch.setattr(Archive, "_record_rejects", staticmethod(outage_at_the_rejects))
    reject = Reject.of(None, kind="illust", reason="validation", error="id: missing", spider="store")
    pipeline.item_dropped({}, RejectedItem("refused", reject))
    await pipeline.process_item(illust(1))
    await pipeline.close_spider()
    assert crawler.stats.get_value("pixivcrawl/db/retries") == 1
    assert crawler.stats.get_value("pixivcrawl/works/new") == 1
    assert query(sqlite_url, "SELECT count(*) FROM work_events WHERE event = 'new'") == [(1,)]
    assert query(sqlite_url, "SELECT reason FROM rejects") == [("validation",)]
