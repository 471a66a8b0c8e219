"""The search spider: every match exactly once past the 5000-offset cap, users, novels, argument checks."""

from __future__ import annotations

import datetime as dt
import logging
import math

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.exceptions import ArgumentError
from pixivcrawl.spiders.search import SearchSpider, narrowed
from tests.crawl import Archive, crawl
from tests.spiders.conftest import NO_FILES, routes

WORD = "切り絵"  # one illust in 101: about 6,100 matches in a world of 625,000


@pytest.mark.slow
@pytest.mark.parametrize("sort", ["date_desc", "date_asc"])
@deferred_f_from_coro_f
async def test_search_past_the_offset_cap_archives_every_match_exactly_once(make_sandbox, archive: Archive, sort, caplog) -> None:
    sandbox = make_sandbox(num_illusts=625_000)
    expected = sandbox.server.world.search_illust_ids(WORD, sort=sort)
    assert 6000 < len(expected) < 8000

    with caplog.at_level(logging.INFO):
        crawler = await crawl(SearchSpider, sandbox, archive, settings=NO_FILES, word=WORD, sort=sort)
    assert crawler.stats.get_value("finish_reason") == "finished"

    stored = [i for (i,) in archive.query("SELECT id FROM illusts")]
    assert sorted(stored) == sorted(expected)
    assert crawler.stats.get_value("pixivcrawl/validation/valid/illust") == len(expected)
    assert crawler.stats.get_value("pixivcrawl/search/windows_narrowed") >= 1
    assert "offset cap reached" in caplog.text
    stats = sandbox.stats()
    assert stats["offset_cap"] == 0
    # The overlapping boundary days cost a few pages more than the floor, not a re-crawl.
    floor = math.ceil(len(expected) / 30)
    assert floor <= routes(sandbox)["/v1/search/illust"] <= floor + 4
    assert routes(sandbox).get("/v1/illust/detail", 0) == 0


@deferred_f_from_coro_f
async def test_search_with_a_date_range_and_no_cap_is_exactly_the_listing(make_sandbox, archive: Archive) -> None:
    sandbox = make_sandbox()
    args = {"start_date": "2026-10-01", "end_date": "2026-10-05"}
    expected = sandbox.server.world.search_illust_ids("猫", search_target="exact_match_for_tags", **args)
    assert 100 < len(expected) < 5000
    await crawl(SearchSpider, sandbox, archive, settings=NO_FILES, word="猫", search_target="exact_match_for_tags", **args)
    assert {i for (i,) in archive.query("SELECT id FROM illusts")} == set(expected)
    assert routes(sandbox)["/v1/search/illust"] == math.ceil(len(expected) / 30)


@deferred_f_from_coro_f
async def test_search_novels_and_users(make_sandbox, archive: Archive) -> None:
    sandbox = make_sandbox(num_novels=20_000)
    world = sandbox.server.world
    novels = world.search_novel_ids("切り絵")
    assert novels
    await crawl(SearchSpider, sandbox, archive, settings=NO_FILES, word="切り絵", type="novel")
    assert {i for (i,) in archive.query("SELECT id FROM novels")} == set(novels)

    users = world.search_user_ids("a")[:60]
    await crawl(SearchSpider, sandbox, archive, settings=NO_FILES, word="a", type="user", pages="2")
    stored = {i for (i,) in archive.query("SELECT id FROM users")}
    assert set(users) <= stored
    assert routes(sandbox)["/v1/search/user"] == 2


def test_narrowing_overlaps_one_day_and_always_shrinks_the_window() -> None:
    day = dt.date(2026, 5, 10)
    assert narrowed((None, None), day, ascending=False) == (None, dt.date(2026, 5, 11))
    assert narrowed((None, dt.date(2026, 5, 11)), day, ascending=False) == (None, day)
    assert narrowed((None, day), day, ascending=False) is None
    assert narrowed((None, None), day, ascending=True) == (dt.date(2026, 5, 9), None)
    assert narrowed((dt.date(2026, 5, 9), None), day, ascending=True) == (day, None)
    assert narrowed((day, None), day, ascending=True) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "spider search: missing word; expected a search word"),
        ({"word": "a", "sort": "newest"}, "bad sort='newest'; expected one of: date_desc, date_asc, popular_desc"),
        ({"word": "a", "start_date": "2026-02-01", "end_date": "2026-01-01"}, "bad start_date=2026-02-01"),
        ({"word": "a", "search_target": "text"}, "search_target='text'; expected it with type=novel only"),
        ({"word": "a", "search_ai_type": "3"}, "bad search_ai_type='3'; expected one of: 0, 1, 2"),
    ],
)
def test_bad_search_arguments_stop_before_any_request(kwargs, message) -> None:
    with pytest.raises(ArgumentError, match=message.replace("(", r"\(")):
        SearchSpider.parse_arguments(kwargs)


@pytest.mark.parametrize(("ai_type", "ai_works"), [("2", "only"), ("0", "none"), ("1", "some")])
@deferred_f_from_coro_f
async def test_search_ai_type_is_passed_on_as_given(sandbox, archive: Archive, ai_type: str, ai_works: str) -> None:
    crawler = await crawl(SearchSpider, sandbox, archive, settings=NO_FILES, word="猫", search_ai_type=ai_type, pages="2")
    assert crawler.stats.get_value("finish_reason") == "finished"
    assert routes(sandbox)["/v1/search/illust"] == 2
    # The sandbox follows pixivpy for 0 (hide AI) and 1 (show), and the reference for 2 (AI only).
    stored = [a == 2 for (a,) in archive.query("SELECT ai_type FROM illusts WHERE status = 'available'")]
    assert stored
    assert {"only": all(stored), "none": not any(stored), "some": any(stored) and not all(stored)}[ai_works]


@pytest.mark.parametrize(("sort", "stops"), [("date_desc", True), ("date_asc", False)])
@deferred_f_from_coro_f
async def test_an_incremental_search_stops_early_only_when_newest_first(make_sandbox, archive: Archive, sort,
                                                                        stops) -> None:
    # Oldest first (or by popularity), an archived first page says nothing of the pages after it.
    sandbox = make_sandbox()
    args = {"word": "猫", "search_target": "exact_match_for_tags", "start_date": "2026-10-01",
            "end_date": "2026-10-05", "sort": sort}
    settings = {**NO_FILES, "PIXIV_INCREMENTAL": True}
    await crawl(SearchSpider, sandbox, archive, settings=settings, **args)
    pages = routes(sandbox)["/v1/search/illust"]
    assert pages > 2
    sandbox.reset_stats()
    await crawl(SearchSpider, sandbox, archive, settings=settings, **args)
    assert routes(sandbox)["/v1/search/illust"] == (1 if stops else pages)
