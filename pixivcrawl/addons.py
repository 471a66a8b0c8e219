"""The sandbox add-on: ``PIXIV_SANDBOX=true`` runs the fake Pixiv inside the crawl."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.settings import SETTINGS_PRIORITIES

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings

    from pixivcrawl.sandbox.server import Sandbox

logger = logging.getLogger(__name__)

SANDBOX_SLOTS = {
    "pixiv-api": {"concurrency": 4, "delay": 0},
    "pixiv-images": {"concurrency": 8, "delay": 0},
}


def _override(settings: Settings, name: str, value: object) -> None:
    # Add-on priority is below the project's settings.py, which sets these defaults.
    priority = max(settings.getpriority(name) or 0, SETTINGS_PRIORITIES["project"])
    settings.set(name, value, priority=priority)


class SandboxAddon:
    """Starts the sandbox (configured by ``PIXIV_SANDBOX_*``) and points the crawl at it.

    It sets PIXIV_API_URL, PIXIV_AUTH_URL, PIXIV_IMAGE_HOSTS, the sandbox's
    refresh token and, with PIXIV_SANDBOX_TLS, PIXIV_CA_BUNDLE to its CA, and drops the politeness delays (the sandbox has no limit
    unless one is configured). It stops the sandbox when the engine stops.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.sandbox: Sandbox | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("PIXIV_SANDBOX"):
            raise NotConfigured
        return cls(crawler)

    def update_settings(self, settings: Settings) -> None:
        from pixivcrawl.sandbox.config import SandboxConfig  # noqa: PLC0415
        from pixivcrawl.sandbox.server import Sandbox  # noqa: PLC0415

        config = SandboxConfig.from_settings(settings)
        self.sandbox = Sandbox(config)
        self.sandbox.start_in_thread()
        self.crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)
        logger.info("Sandbox running at %s (images at %s)", self.sandbox.api_url, self.sandbox.image_host)
        _override(settings, "PIXIV_API_URL", self.sandbox.api_url)
        _override(settings, "PIXIV_AUTH_URL", self.sandbox.auth_url)
        _override(settings, "PIXIV_IMAGE_HOSTS", [self.sandbox.image_host])
        _override(settings, "DOWNLOAD_SLOTS", SANDBOX_SLOTS)
        if self.sandbox.ca_bundle:  # PIXIV_SANDBOX_TLS: trust the CA it made, and only it
            _override(settings, "PIXIV_CA_BUNDLE", self.sandbox.ca_bundle)
        # A token given on the command line is kept (to try a bad one); the
        # account's real token from the environment is never sent to the sandbox.
        if (settings.getpriority("PIXIV_REFRESH_TOKEN") or 0) < SETTINGS_PRIORITIES["cmdline"]:
            _override(settings, "PIXIV_REFRESH_TOKEN", config.refresh_token)

    def engine_stopped(self) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None
