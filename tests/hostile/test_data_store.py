"""The store on both backends: a batch the database refuses for one item's data keeps every other item."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.items import ApiObject
from pixivcrawl.models import RankingEntry
from tests.db.conftest import db_url, postgres_server  # noqa: F401 - fixtures
from tests.db.factories import illust, query, store


@deferred_f_from_coro_f
async def test_a_value_the_database_refuses_costs_only_its_item(db_url: str, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    # Past what validation lets through (a model built by hand): both backends refuse a 2^63 count.
    bad = illust(2).model_copy(update={"total_view": 2**63})
    bad._source = ApiObject("illust", {"id": 2, "total_view": 2**63}, url="https://app-api.pixiv.net/v1/illust/detail?illust_id=2")
    items = [illust(1), bad, illust(3), RankingEntry(mode="day", date=dt.date(2026, 10, 30), rank=1, illust_id=3)]
    with caplog.at_level(logging.WARNING):
        crawler = await store(db_url, items)
    assert query(db_url, "SELECT id FROM illusts ORDER BY id") == [(1,), (3,)]
    assert query(db_url, "SELECT work_id, rank FROM rankings") == [(3, 1)]
    [(kind, object_id, url, reason, raw)] = query(db_url, "SELECT kind, object_id, url, reason, raw FROM rejects")
    assert (kind, object_id, reason) == ("illust", 2, "store")
    assert url.endswith("illust_id=2") and json.loads(raw) == {"id": 2, "total_view": 2**63}
    assert crawler.stats.get_value("pixivcrawl/rejected_items/store") == 1
    assert crawler.stats.get_value("pixivcrawl/db/items_stored") == 3
    # (psycopg may add a warning of its own about the aborted pipeline of the failed batch)
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("pixivcrawl")]
    assert warning.startswith("Refused by the database: illust 2 (")
