"""Items for storage tests, parsed from payloads shaped like the reference's captured samples."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from scrapy import Spider
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from pixivcrawl.db.engine import create_engine
from pixivcrawl.db.schema import TABLES
from pixivcrawl.extensions import CrawlRunRecorder
from pixivcrawl.models import Illust, StoredFile
from pixivcrawl.parsing import parse_illust, parse_user_detail
from pixivcrawl.pipelines.store import StorePipeline

REPO = Path(__file__).resolve().parents[2]
LIMIT = "https://s.pximg.net/common/images/limit_{}_360.png"


def _urls(illust_id: int, page: int, ts: str) -> dict[str, str]:
    base = f"https://i.pximg.net/c/{{}}/img-master/img/{ts}/{illust_id}_p{page}"
    return {
        "square_medium": base.format("360x360_70") + "_square1200.jpg",
        "medium": base.format("540x540_70") + "_master1200.jpg",
        "large": base.format("600x1200_90") + "_master1200.jpg",
    }


def illust_payload(
    illust_id: int,
    *,
    user: tuple[int, str] = (2131660, "artist"),
    title: str | None = None,
    tags: list[tuple[str, str | None]] | None = None,
    pages: int = 1,
    created: str = "2025-02-03T00:03:17+09:00",
    views: int = 100,
    bookmarks: int = 10,
    ai_type: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    """An illust object as /v1/illust/detail and the listings send it (reference §5.1)."""
    ts = dt.datetime.fromisoformat(created).strftime("%Y/%m/%d/%H/%M/%S")
    original = f"https://i.pximg.net/img-original/img/{ts}/{illust_id}_p{{}}.jpg"
    meta_pages = [{"image_urls": {**_urls(illust_id, p, ts), "original": original.format(p)}} for p in range(pages)]
    return {
        "id": illust_id,
        "title": title if title is not None else f"work {illust_id}",
        "type": "illust",
        "image_urls": _urls(illust_id, 0, ts),
        "caption": f"caption of {illust_id}<br />",
        "restrict": 0,
        "x_restrict": 0,
        "sanity_level": 2,
        "user": {
            "id": user[0],
            "name": user[1],
            "account": f"{user[1]}_acc",
            "profile_image_urls": {"medium": f"https://i.pximg.net/user-profile/img/{user[0]}_170.jpg"},
            "is_followed": False,
        },
        "tags": [{"name": n, "translated_name": t} for n, t in (tags if tags is not None else [("海", "sea")])],
        "tools": ["CLIP STUDIO PAINT"],
        "create_date": created,
        "page_count": pages,
        "width": 1200,
        "height": 1700,
        "series": None,
        "meta_single_page": {} if pages > 1 else {"original_image_url": original.format(0)},
        "meta_pages": meta_pages if pages > 1 else [],
        "total_view": views,
        "total_bookmarks": bookmarks,
        "is_bookmarked": False,
        "visible": True,
        "is_muted": False,
        "illust_ai_type": ai_type,
        "illust_book_style": 0,
        **extra,
    }


def illust(illust_id: int, **kwargs: Any) -> Illust:
    return parse_illust(illust_payload(illust_id, **kwargs))


def hidden_illust(illust_id: int, user_id: int = 2131660, limit: str = "sanity_level") -> Illust:
    """The placeholder Pixiv sends for a work hidden from this account (captured limited sample)."""
    url = LIMIT.format(limit)
    payload = illust_payload(illust_id, user=(user_id, ""), title="", tags=[], views=0, bookmarks=0, ai_type=0)
    payload.update(
        image_urls={"square_medium": url, "medium": url, "large": url},
        meta_single_page={"original_image_url": url},
        meta_pages=[],
        caption="",
        visible=False,
        width=100,
        height=100,
        tools=[],
    )
    payload["user"]["account"] = ""
    return parse_illust(payload)


def deleted_illust(illust_id: int) -> Illust:
    return hidden_illust(illust_id, user_id=0, limit="unknown")


def with_files(item: Illust, root: str = "2131660") -> Illust:
    """The illust as the media pipeline hands it on: every page downloaded."""
    for page in item.pages:
        page.file = StoredFile(
            url=page.original_url or "",
            local_path=f"{root}/{item.id}_p{page.index}.jpg",
            size=1000 + page.index,
            sha256=f"{item.id:064x}"[-64:],
            width=1200,
            height=1700,
        )
    return item


def user_detail(user_id: int, name: str = "artist", region: str = "Japan") -> Any:
    return parse_user_detail(
        {
            "user": {"id": user_id, "name": name, "account": f"{name}_acc", "comment": "hello",
                     "profile_image_urls": {"medium": f"https://i.pximg.net/user-profile/img/{user_id}_170.jpg"}},
            "profile": {"webpage": None, "gender": "", "region": region, "total_illusts": 3,
                        "total_follow_users": 10, "is_premium": False},
            "profile_publicity": {"gender": "public", "region": "public", "pawoo": True},
            "workspace": {"pc": "desktop", "tool": "CLIP STUDIO PAINT"},
        }
    )


async def store(url: str, items: list[Any], *, record_run: str | None = None, **settings: Any) -> Any:
    """Run ``items`` through a real StorePipeline at ``url``; returns the crawler (for stats).

    With ``record_run`` (a spider name), the CrawlRunRecorder records it as a finished crawl.
    """
    crawler = get_crawler(settings_dict={"PIXIV_DATABASE_URL": url, "PIXIV_DB_BATCH_SIZE": 500,
                                         "PIXIV_DB_FLUSH_INTERVAL": 0,
                                         "PIXIV_RUN_HEARTBEAT_INTERVAL": 60, **settings})
    crawler.stats.open_spider()
    spider = Spider(name=record_run or "store")
    spider.args = {"mode": "day", "refresh_token": "secret-token"}  # type: ignore[attr-defined]
    recorder = CrawlRunRecorder.from_crawler(crawler) if record_run else None
    pipeline = build_from_crawler(StorePipeline, crawler)
    await pipeline.open_spider()
    if recorder:
        await recorder.spider_opened(spider)
    for item in items:
        await pipeline.process_item(item)
        crawler.stats.inc_value("item_scraped_count")
    await pipeline.close_spider()
    if recorder:
        await recorder.spider_closed(spider, "finished")
    return crawler


def age(url: str, delta: dt.timedelta) -> None:
    """Make every row stored so far look as if it was stored ``delta`` ago."""
    when = dt.datetime.now(dt.UTC) - delta
    engine = create_engine(url)
    with engine.begin() as connection:
        for table in TABLES.values():
            for column in table.columns:
                if column.name in AGED_COLUMNS:
                    connection.execute(table.update().where(column.is_not(None)).values({column.name: when}))
    engine.dispose()


AGED_COLUMNS = {"first_seen_at", "last_seen_at", "captured_at", "crawled_at", "started_at", "finished_at",
                "downloaded_at", "detail_fetched_at", "fetched_at"}


def query(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(sa.text(sql), params)]
    finally:
        engine.dispose()
