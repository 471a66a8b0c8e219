"""What a crawl changes in its process for speed: the garbage collector, the stats collector, the NUL check."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings
from scrapy.utils.misc import load_object
from scrapy.utils.test import get_crawler

from pixivcrawl.gc_tuning import GarbageCollection
from pixivcrawl.pipelines.validate import without_nul


def project_crawler(**settings: object):
    values = Settings()
    values.setmodule("pixivcrawl.settings")
    return get_crawler(settings_dict={**values.copy_to_dict(), **settings})


def test_the_collector_is_tuned_while_a_crawl_runs_and_given_back_after() -> None:
    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    extension = GarbageCollection.from_crawler(project_crawler(PIXIV_GC_THRESHOLD=40_000))
    extension.spider_opened()
    try:
        assert gc.get_threshold() == (40_000, *before[1:])
        assert gc.get_freeze_count() > frozen
    finally:
        extension.spider_closed()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen


def test_a_threshold_of_zero_leaves_the_collector_alone() -> None:
    with pytest.raises(NotConfigured):
        GarbageCollection.from_crawler(project_crawler(PIXIV_GC_THRESHOLD=0))


def test_the_stats_collector_counts_like_scrapys() -> None:
    crawler = project_crawler()
    stats = load_object(crawler.settings["STATS_CLASS"])(crawler)
    stats.inc_value("a")
    stats.inc_value("a", 2)
    stats.max_value("m", 3)
    stats.max_value("m", 1)
    stats.set_value("s", "x")
    assert stats.get_stats() == {"a": 3, "m": 3, "s": "x"}
    assert stats.get_value("missing", 7) == 7


@pytest.mark.parametrize(
    ("value", "expected", "removed"),
    [
        ({"title": "ok", "tags": [{"name": "風景"}]}, {"title": "ok", "tags": [{"name": "風景"}]}, 0),
        ({"title": "a\x00b", "tags": [{"name": "x\x00"}, {"name": "y"}]}, {"title": "ab", "tags": [{"name": "x"}, {"name": "y"}]}, 2),
        # Past 64 bits orjson cannot tell: the value is walked, and the NUL still found.
        ({"id": 2**70, "title": "a\x00"}, {"id": 2**70, "title": "a"}, 1),
        # A key is not a column value: kept as it is.
        ({"k\x00": "v"}, {"k\x00": "v"}, 0),
        ("\x00", "", 1),
    ],
)
def test_nul_characters_are_removed_from_every_string_value(value: object, expected: object, removed: int) -> None:
    assert without_nul(value) == (expected, removed)


CRAWLER_MODULES = """
import sys
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings
settings = get_project_settings()
settings.setdict({k: v for k, v in (a.split("=", 1) for a in sys.argv[1:])}, priority="cmdline")
crawler = CrawlerProcess(settings, install_root_handler=False).create_crawler("ranking")
crawler._apply_settings()
print(sorted(type(e).__name__ for e in crawler.extensions.middlewares))
crawler.engine = crawler._create_engine()
print(sorted(type(m).__name__ for m in crawler.engine.downloader.middleware.middlewares))
print("aiohttp" in sys.modules, "twisted.conch" in sys.modules, "tldextract" in sys.modules)
"""


ON = ("REMOTE_CONTROL_ENABLED=true", "TELNETCONSOLE_ENABLED=true", "COOKIES_ENABLED=true")


@pytest.mark.parametrize(("given", "loaded"), [((), False), (ON, True)])
def test_scrapys_remote_control_telnet_and_cookies_are_not_even_imported_unless_turned_on(
    given: tuple[str, ...], loaded: bool
) -> None:
    out = subprocess.run([sys.executable, "-c", CRAWLER_MODULES, *given], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent).stdout.splitlines()
    extensions, middlewares, imported = out[-3:]
    assert ("RemoteControl" in extensions, "TelnetConsole" in extensions) == (loaded, loaded)
    assert ("CookiesMiddleware" in middlewares) == loaded
    assert "RetryMiddleware" in middlewares
    assert imported == f"{loaded} {loaded} {loaded}"
