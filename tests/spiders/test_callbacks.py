"""Spider callbacks, checked once here instead of on every response (WARN_ON_GENERATOR_RETURN_VALUE)."""

from __future__ import annotations

import inspect

import pytest
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.misc import is_generator_with_return_value
from scrapy.utils.project import get_project_settings


def generator_methods() -> list[tuple[str, str, object]]:
    """(spider, method, function) of every generator method of every spider, each function once."""
    loader = SpiderLoader.from_settings(get_project_settings())
    found: dict[object, tuple[str, str, object]] = {}
    for name in loader.list():
        for _, value in inspect.getmembers(loader.load(name), inspect.isfunction):
            if inspect.isgeneratorfunction(value):
                found.setdefault(value, (name, value.__qualname__, value))
    return list(found.values())


def test_the_spiders_have_generator_callbacks_to_check() -> None:
    assert generator_methods(), "no generator method found: the check below would pass vacuously"


@pytest.mark.parametrize(("spider", "method", "function"), generator_methods(), ids=lambda v: v if isinstance(v, str) else "")
def test_no_generator_callback_returns_a_value(spider: str, method: str, function) -> None:
    # Scrapy's own check (what WARN_ON_GENERATOR_RETURN_VALUE runs per response): a value
    # returned from a generator callback is silently dropped by Scrapy.
    assert not is_generator_with_return_value(function), f"{spider}.{method} returns a value from a generator"
