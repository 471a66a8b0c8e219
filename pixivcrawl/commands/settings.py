"""``scrapy settings --get NAME``: Scrapy's, with the config file read (to see where a value comes from)."""

from __future__ import annotations

from scrapy.commands.settings import Command as ScrapySettingsCommand

from pixivcrawl.cli import ProjectCommand


class Command(ProjectCommand, ScrapySettingsCommand):
    """Scrapy's ``settings``, with the config file and the setting-name check of every pixivcrawl command."""
