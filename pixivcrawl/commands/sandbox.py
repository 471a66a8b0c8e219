"""`scrapy sandbox --port 8700 [flags]`: run the fake Pixiv until Ctrl-C / SIGTERM."""
from __future__ import annotations

import argparse
import asyncio

from scrapy.commands import ScrapyCommand

from pixivcrawl.cli import ProjectCommand
from pixivcrawl.sandbox.config import SandboxConfig, add_arguments


class Command(ProjectCommand, ScrapyCommand):
    requires_project = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[options]"

    def short_desc(self) -> str:
        return "Run the Pixiv sandbox (fake App API, OAuth and image hosts) on 127.0.0.1"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        # flags default to None so PIXIV_SANDBOX_* settings fill what the command line leaves out
        add_arguments(parser, defaults=False)

    def config(self, opts: argparse.Namespace) -> SandboxConfig:
        base = SandboxConfig.from_settings(self.settings) if self.settings is not None else SandboxConfig()
        given = {k: v for k, v in vars(opts).items() if k in base.__dataclass_fields__ and v is not None}
        return base.replace(**given)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        from pixivcrawl.sandbox.__main__ import serve  # aiohttp only when serving

        asyncio.run(serve(self.config(opts)))
