"""Spider arguments are parsed and checked before any request."""

from __future__ import annotations

import datetime as dt

import pytest

from pixivcrawl.exceptions import ArgumentError
from pixivcrawl.spiders.base import parse_dates
from pixivcrawl.spiders.ranking import RankingSpider


def test_date_ranges_are_inclusive() -> None:
    assert parse_dates("2026-10-30..2026-11-01") == [dt.date(2026, 10, 30), dt.date(2026, 10, 31), dt.date(2026, 11, 1)]
    assert parse_dates("2026-10-30") == [dt.date(2026, 10, 30)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "bogus"}, "spider ranking: bad mode='bogus'; expected one of: day, week, month"),
        ({"date": "yesterday"}, "spider ranking: bad date='yesterday'; expected a date YYYY-MM-DD or a range START..END"),
        ({"date": "2026-11-02..2026-11-01"}, "bad date='2026-11-02..2026-11-01'"),
        ({"pages": "0"}, "spider ranking: bad pages='0'; expected a whole number >= 1"),
        ({"user_id": "5"}, "spider ranking: unknown argument 'user_id'; accepted: type, mode, date, pages"),
        ({"type": "novel", "mode": "month"}, "spider ranking: bad mode='month' for type=novel; expected one of: day, week, day_male"),
        ({"mode": "week_ai"}, "spider ranking: bad mode='week_ai' for type=illust; expected one of: day, week, month"),
    ],
)
def test_bad_arguments_name_the_argument_and_accepted_values(kwargs, message) -> None:
    with pytest.raises(ArgumentError) as exc:
        RankingSpider.parse_arguments(kwargs)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_defaults_apply() -> None:
    args = RankingSpider.parse_arguments({})
    assert args == {"type": "illust", "mode": "day", "date": None, "pages": None}


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("PIXIV_UGOIRA_FORMAT", "mp4", "bad PIXIV_UGOIRA_FORMAT='mp4'; expected one of: webp, gif, apng, zip"),
        ("PIXIV_DATABASE_URL", "not a url", "bad PIXIV_DATABASE_URL: expected a SQLAlchemy URL"),
        ("PIXIV_DB_BATCH_SIZE", "0", "bad PIXIV_DB_BATCH_SIZE='0'; expected a positive number"),
        ("PIXIV_IMAGE_HOSTS", [], "PIXIV_IMAGE_HOSTS is empty"),
        ("PIXIV_RUN_HEARTBEAT_INTERVAL", "0", "bad PIXIV_RUN_HEARTBEAT_INTERVAL='0'; expected a positive number"),
    ],
)
def test_bad_settings_name_the_setting_and_the_fix(setting, value, message) -> None:
    from scrapy.settings import Settings

    from pixivcrawl.checks import check_settings

    settings = Settings()
    settings.setmodule("pixivcrawl.settings")
    settings.setdict({"PIXIV_SANDBOX": True, setting: value})
    with pytest.raises(ArgumentError) as exc:
        check_settings(settings)
    assert message in str(exc.value)


def test_the_project_defaults_pass_the_checks() -> None:
    from scrapy.settings import Settings

    from pixivcrawl.checks import check_settings

    settings = Settings()
    settings.setmodule("pixivcrawl.settings")
    settings.set("PIXIV_SANDBOX", True)
    check_settings(settings)


@pytest.mark.parametrize(("value", "sent"), [("for_ios", "filter=for_ios"), ("for_android", "filter=for_android"), ("", "filter=&")])
def test_pixiv_filter_is_sent_as_set(value: str, sent: str) -> None:
    from scrapy.utils.test import get_crawler

    crawler = get_crawler(RankingSpider, {"PIXIV_FILTER": value, "PIXIV_API_URL": "https://app-api.pixiv.net"})
    spider = RankingSpider.from_crawler(crawler, date="2026-10-30")
    [request] = spider.start_listings()
    assert sent in request.url + "&"


def test_a_bad_pixiv_filter_stops_before_any_request() -> None:
    from scrapy.settings import Settings

    from pixivcrawl.checks import check_settings

    settings = Settings()
    settings.setmodule("pixivcrawl.settings")
    settings.set("PIXIV_FILTER", "for_web")
    settings.set("PIXIV_SANDBOX", True)
    with pytest.raises(ArgumentError, match="bad PIXIV_FILTER='for_web'; expected for_ios, for_android or '' \\(empty\\)"):
        check_settings(settings)
