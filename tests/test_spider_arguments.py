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
        ({"user_id": "5"}, "spider ranking: unknown argument 'user_id'; accepted: mode, date, pages"),
    ],
)
def test_bad_arguments_name_the_argument_and_accepted_values(kwargs, message) -> None:
    with pytest.raises(ArgumentError) as exc:
        RankingSpider.parse_arguments(kwargs)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_defaults_apply() -> None:
    args = RankingSpider.parse_arguments({})
    assert args == {"mode": "day", "date": None, "pages": None}
