"""The disabled-components add-on: Scrapy's built-in components a crawl turned off are not even imported."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from pixivcrawl.addons import _override

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings

#: Component setting -> {built-in component: the setting that turns it on}. Scrapy imports
#: every component of a ``*_BASE`` setting before asking whether it is enabled, and every
#: key of the setting itself even with the value None. These are costly to import and
#: settings.py turns them off (about 0.2 CPU s and 10 MB of every start): the remote
#: control's aiohttp, the telnet console's twisted.conch, the cookies middleware's tldextract
#: and requests.
SWITCHED = {
    "EXTENSIONS": {
        "scrapy.extensions.remote_control.RemoteControl": "REMOTE_CONTROL_ENABLED",
        "scrapy.extensions.telnet.TelnetConsole": "TELNETCONSOLE_ENABLED",
    },
    "DOWNLOADER_MIDDLEWARES": {
        "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": "COOKIES_ENABLED",
    },
}


class DisabledComponentsAddon:
    """Takes the components of :data:`SWITCHED` whose setting is off out of their ``*_BASE``
    setting; one turned on (``-s COOKIES_ENABLED=true``) or named in the project's own
    setting loads as usual."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls()

    def update_settings(self, settings: Settings) -> None:
        for name, switched in SWITCHED.items():
            named = settings.getdict(name)
            off = {path for path, switch in switched.items() if not settings.getbool(switch) and path not in named}
            base = settings.getdict(f"{name}_BASE")
            if off & base.keys():
                _override(settings, f"{name}_BASE", {k: v for k, v in base.items() if k not in off})
