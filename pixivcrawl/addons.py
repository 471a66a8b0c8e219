"""The sandbox add-on: ``PIXIV_SANDBOX=true`` runs the fake Pixiv inside the crawl."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.utils.job import job_dir

from pixivcrawl import api
from pixivcrawl import settings as defaults
from pixivcrawl.config import CONFIG_PRIORITY

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings, Settings

    from pixivcrawl.sandbox.server import Sandbox

logger = logging.getLogger(__name__)

SANDBOX_SLOTS = {
    api.API_SLOT: {"concurrency": 4, "delay": 0},
    api.IMAGE_SLOT: {"concurrency": 8, "delay": 0},
}

#: Where the demo writes, apart from the real archive (``PIXIV_SANDBOX=true``).
DEMO_ARCHIVE = {"PIXIV_DATABASE_URL": "sqlite:///data/sandbox.db", "FILES_STORE": "data/sandbox-files"}
#: In a JOBDIR: the in-process sandbox's ports, so a resumed crawl finds its queued URLs' hosts again.
PORTS_FILE = "pixivcrawl-sandbox.json"


def given_by_user(settings: BaseSettings, name: str) -> bool:
    """Whether the user gave ``name`` for this crawl: on the command line (or a plan job), or,
    below the config file's priority, a value other than settings.py's. The config file
    names the real archive, so the demo does not take its database or files store."""
    priority = settings.getpriority(name) or 0
    if priority > CONFIG_PRIORITY:
        return True
    return priority < CONFIG_PRIORITY and settings[name] != getattr(defaults, name)


def use_demo_archive(settings: BaseSettings) -> None:
    """With ``PIXIV_SANDBOX=true``, point the database and files store at the demo archive
    unless the user gave them for this crawl. Idempotent."""
    if not settings.getbool("PIXIV_SANDBOX"):
        return
    for name, value in DEMO_ARCHIVE.items():
        if not given_by_user(settings, name):
            settings.set(name, value, priority=CONFIG_PRIORITY)


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
        from pixivcrawl.sandbox.config import SandboxConfig
        from pixivcrawl.sandbox.server import Sandbox

        use_demo_archive(settings)
        ports_file = Path(directory, PORTS_FILE) if (directory := job_dir(settings)) else None
        saved = {k: v for k, v in _saved_ports(ports_file).items() if not settings.getint(f"PIXIV_SANDBOX_{k.upper()}")}
        config = SandboxConfig.from_settings(settings, **saved)
        self.sandbox = Sandbox(config)
        try:
            self.sandbox.start_in_thread()
        except OSError:  # a saved port is taken now: the resumed queue's URLs are lost anyway
            self.sandbox = Sandbox(SandboxConfig.from_settings(settings))
            self.sandbox.start_in_thread()
        if ports_file is not None:
            ports_file.write_text(json.dumps({"port": self.sandbox.port, "image_port": self.sandbox.image_port}))
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


def _saved_ports(path: Path | None) -> dict[str, Any]:
    """The ports a crawl with this JOBDIR used before (unless PIXIV_SANDBOX_PORT* chose them)."""
    if path is None or not path.is_file():
        return {}
    try:
        saved = json.loads(path.read_text())
        return {k: int(saved[k]) for k in ("port", "image_port")}
    except (ValueError, KeyError, TypeError):
        return {}
