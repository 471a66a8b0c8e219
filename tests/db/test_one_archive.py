"""A crawl reaches its database through one Archive: one engine, one migration, no I/O on the reactor thread."""

from __future__ import annotations

import threading
from typing import Any

import alembic.command
import sqlalchemy as sa
from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.spiders.user import UserSpider
from tests.crawl import Archive, crawl

USER = 33


@deferred_f_from_coro_f
async def test_a_crawl_opens_one_engine_migrates_once_and_reads_and_writes_off_the_reactor_thread(
    make_sandbox, archive: Archive, monkeypatch
) -> None:
    sandbox = make_sandbox(page_size=10)
    engines: list[Any] = []
    migrations: list[str] = []
    on_reactor: list[str] = []
    reactor = threading.current_thread()
    create_engine, upgrade = sa.create_engine, alembic.command.upgrade

    def counted_engine(*args: Any, **kwargs: Any) -> Any:
        engines.append(args[0])
        return create_engine(*args, **kwargs)

    def counted_upgrade(config: Any, revision: str, **kwargs: Any) -> Any:
        migrations.append(revision)
        return upgrade(config, revision, **kwargs)

    def checkout(*args: Any) -> None:
        if threading.current_thread() is reactor:
            on_reactor.append(threading.current_thread().name)

    monkeypatch.setattr(sa, "create_engine", counted_engine)
    monkeypatch.setattr(alembic.command, "upgrade", counted_upgrade)
    sa.event.listen(sa.pool.Pool, "checkout", checkout)
    settings = {"PIXIV_INCREMENTAL": True, "PIXIV_RUN_HEARTBEAT_INTERVAL": 0.1}
    try:
        first = await crawl(UserSpider, sandbox, archive, settings=settings, user_id=str(USER), type="illust", pages=2)
        assert (len(engines), len(migrations)) == (1, 1)
        sandbox.reset_stats()
        again = await crawl(UserSpider, sandbox, archive, settings=settings, user_id=str(USER), type="illust", pages=2)
        # The database is at the head revision: the second crawl needs no migration at all.
        assert (len(engines), len(migrations)) == (2, 1)
    finally:
        sa.event.remove(sa.pool.Pool, "checkout", checkout)

    # Both crawls used every part of the archive: the store, the run recorder, the media
    # pipelines (files, then files already recorded) and the spider (archived works).
    assert first.stats.get_value("file_status_count/downloaded") > 0
    assert again.stats.get_value("pixivcrawl/incremental/listings_stopped") == 1
    assert again.stats.get_value("file_status_count/uptodate") > 0
    assert sandbox.stats()["image_requests"] == 0
    assert archive.query("SELECT spider, status FROM crawl_runs") == [("user", "finished")] * 2
    assert archive.count("illusts") == 20
    assert on_reactor == []
