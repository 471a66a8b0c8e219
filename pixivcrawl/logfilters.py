"""Scrapy's start-up boilerplate (versions, enabled components, overridden settings) at DEBUG.

A crawl's INFO log then starts with what the crawl does; ``-L DEBUG`` shows it all.
"""

from __future__ import annotations

import logging

#: Loggers and the start of each INFO message that is moved to DEBUG.
BOILERPLATE = {
    "scrapy.utils.log": ("Scrapy ", "Versions:", "Using reactor", "Using asyncio event loop"),
    "scrapy.crawler": ("Overridden settings",),
    "scrapy.middleware": ("Enabled ",),
    "scrapy.addons": ("Enabled addons",),
    "scrapy.extensions.telnet": ("Telnet console",),
    # pixivcrawl.db.engine logs one line when it migrates.
    "alembic.runtime.migration": ("",),
}


class DemoteBoilerplate(logging.Filter):
    """Turns matching INFO records into DEBUG ones (handlers at INFO then drop them)."""

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.prefixes = prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and str(record.msg).startswith(self.prefixes):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


def quiet_startup() -> None:
    """Install the filters (once)."""
    for name, prefixes in BOILERPLATE.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, DemoteBoilerplate) for f in logger.filters):
            logger.addFilter(DemoteBoilerplate(prefixes))
