"""One bad value costs only its own item: validation bounds, the store's isolation, listings, ugoira metadata."""

from __future__ import annotations

import json
from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.spiders.ranking import RankingSpider
from tests.crawl import Archive, crawl
from tests.hostile.data_server import RunningDataSandbox

DATE = "2026-10-30"


@pytest.fixture
def data_sandbox(make_data_sandbox: Any) -> RunningDataSandbox:
    return make_data_sandbox(ranking_size=12, page_size=6)


@deferred_f_from_coro_f
async def test_one_bad_value_costs_only_its_own_item(data_sandbox: RunningDataSandbox, archive: Archive,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    ids: dict[str, int] = {}

    def first_page(request: Any, data: dict[str, Any]) -> dict[str, Any]:
        if "offset" in request.query:
            return data
        illusts = data["illusts"]
        # Spoil works that are not ugoira: the ugoira on this page carries a test of its own.
        first, second, third = [w for w in illusts if w["type"] != "ugoira"][:3]
        ids["huge_id"], first["id"] = first["id"], 2**63
        ids["huge_user"] = second["id"]
        second["user"]["id"] = 2**64
        ids["nul"] = third["id"]
        third["title"] = "sea\x00side"
        ids["after_junk"] = illusts[3]["id"]
        illusts.insert(3, "not an object")
        return data

    def bad_delays(request: Any, data: dict[str, Any]) -> dict[str, Any]:
        data["ugoira_metadata"]["frames"][0]["delay"] = -5
        return data

    data_sandbox.rewrite_json("/v1/illust/ranking", first_page)
    data_sandbox.rewrite_json("/v1/ugoira/metadata", bad_delays)
    crawler = await crawl(RankingSpider, data_sandbox, archive, date=DATE)
    stats = crawler.stats.get_stats()
    assert stats["finish_reason"] == "finished"

    # Every good work of both pages is there; only the two bad ones are not.
    stored = {row[0] for row in archive.query("SELECT id FROM illusts")}
    assert len(stored) == 10
    assert ids["huge_user"] not in stored and ids["huge_id"] not in stored
    assert archive.query("SELECT title FROM illusts WHERE id = ?", ids["nul"]) == [("seaside",)]
    assert stats["pixivcrawl/validation/nul_removed/illust"] == 1

    # Ranks are positions: the junk element keeps its place, the next page continues after it.
    ranks = dict(archive.query("SELECT work_id, rank FROM rankings"))
    assert ranks[ids["after_junk"]] == 5
    assert max(ranks.values()) == 13  # page 2 (next_url) was followed

    rejects = archive.query("SELECT kind, object_id, spider, url, reason, error, raw FROM rejects")
    # The page each came from (a ugoira's illust comes with its metadata answer).
    assert all(spider == "ranking" and "/v1/" in url for _, _, spider, url, _, _, _ in rejects)
    refused = sorted((kind, repr(json.loads(raw).get("id") if kind == "illust" and raw.startswith("{") else raw), reason)
                     for kind, _, _, _, reason, error, raw in rejects if "9223372036854775808" in error or "element" in error)
    assert refused == sorted([
        ("illust", repr(2**63), "validation"),
        ("illust", repr(ids["huge_user"]), "validation"),
        ("illust", '\'"not an object"\'', "validation"),
        ("ranking_entry", repr('{"kind": "illust", "mode": "day", "date": "2026-10-30", "rank": 1, '
                               '"work_id": 9223372036854775808}'), "validation"),
    ])
    assert archive.query("SELECT object_id FROM rejects WHERE raw LIKE '%18446744073709551616%'") == [(ids["huge_user"],)]
    assert stats["pixivcrawl/rejected_items"] == len(rejects)
    # One WARNING line each, without the object (it is in the table).
    dropped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Dropped: ")]
    assert len(dropped) == len(rejects) and all(m.endswith("(recorded in rejects)") and "\n" not in m for m in dropped)

    # Bad frame metadata: the illust, its pages and its zip are kept; only the animation is skipped.
    ugoira = archive.query("SELECT illust_id, zip_local_path, animation_local_path, frame_count FROM ugoira")
    assert ugoira
    for illust_id, zip_path, animation, frames in ugoira:
        assert illust_id in stored and zip_path and (archive.files / zip_path).is_file()
        assert animation is None and frames == 0
        assert archive.query("SELECT count(local_path) FROM illust_pages WHERE illust_id = ?", illust_id) == [(1,)]
    assert stats["pixivcrawl/ugoira/bad_metadata"] == len(ugoira)
