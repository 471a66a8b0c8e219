"""What every pixivcrawl command shares: the config file, the setting-name check, and the
``pixivcrawl`` console script, which runs Scrapy's commands with pixivcrawl's settings from
any directory (``pixivcrawl crawl ranking`` is ``scrapy crawl ranking`` inside the checkout)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from pixivcrawl.exceptions import ArgumentError

if TYPE_CHECKING:
    import argparse

    from scrapy.settings import BaseSettings

SETTINGS_MODULE = "pixivcrawl.settings"


def fail(message: str) -> NoReturn:
    """One line on standard error, exit status 2 (a wrong argument or setting: nothing was sent)."""
    print(f"pixivcrawl: {message}", file=sys.stderr)
    sys.exit(2)


def prepare_settings(settings: BaseSettings) -> None:
    """Read the config file into ``settings``, refuse unknown ``PIXIV_*`` names (exit 2), and
    with ``PIXIV_SANDBOX=true`` point the command at the demo archive."""
    from pixivcrawl.addons import use_demo_archive
    from pixivcrawl.checks import check_setting_names
    from pixivcrawl.config import apply_config

    try:
        apply_config(settings)
        check_setting_names(settings)
    except ArgumentError as exc:
        fail(str(exc))
    use_demo_archive(settings)


class ProjectCommand:
    """Mixin for pixivcrawl's commands (put it before Scrapy's command class): after Scrapy's
    options (``-s`` at cmdline priority), the config file and the setting-name check."""

    settings: Any

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)  # type: ignore[misc]
        prepare_settings(self.settings)


def main() -> None:
    """The ``pixivcrawl`` console script: Scrapy's command line with pixivcrawl's settings."""
    from scrapy.cmdline import execute
    from scrapy.settings import Settings

    # Set before Scrapy looks for a project, so a scrapy.cfg in the working directory cannot
    # swap in another project's settings.
    os.environ["SCRAPY_SETTINGS_MODULE"] = SETTINGS_MODULE
    settings = Settings()
    settings.setmodule(SETTINGS_MODULE, priority="project")
    execute(["pixivcrawl", *sys.argv[1:]], settings=settings)
