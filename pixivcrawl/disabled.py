"""The disabled-extensions add-on: Scrapy's built-in extensions a crawl turned off are not even imported."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from pixivcrawl.addons import _override

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings

#: Built-in extension -> the setting that turns it on. Scrapy imports every extension of
#: EXTENSIONS_BASE before asking whether it is enabled, and every key of EXTENSIONS even
#: with the value None; these two are costly to import (the remote control's aiohttp, the
#: telnet console's twisted.conch: about 0.2 CPU s of a start).
SWITCHED = {
    "scrapy.extensions.remote_control.RemoteControl": "REMOTE_CONTROL_ENABLED",
    "scrapy.extensions.telnet.TelnetConsole": "TELNETCONSOLE_ENABLED",
}


class DisabledExtensionsAddon:
    """Takes the extensions of :data:`SWITCHED` whose setting is off out of EXTENSIONS_BASE;
    one turned on (``-s REMOTE_CONTROL_ENABLED=true``) or named in EXTENSIONS loads as usual."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls()

    def update_settings(self, settings: Settings) -> None:
        named = settings.getdict("EXTENSIONS")
        off = {path for path, switch in SWITCHED.items() if not settings.getbool(switch) and path not in named}
        base = settings.getdict("EXTENSIONS_BASE")
        if off & base.keys():
            _override(settings, "EXTENSIONS_BASE", {k: v for k, v in base.items() if k not in off})
