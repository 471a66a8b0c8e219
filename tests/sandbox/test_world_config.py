"""Determinism of the world, the one-list config (dataclass = CLI flags = settings), the Scrapy command."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

from scrapy.settings import Settings

from pixivcrawl.commands.sandbox import Command
from pixivcrawl.sandbox import SandboxConfig, World
from pixivcrawl.sandbox.config import build_parser, setting_names

from .conftest import SMALL, start

PATHS = ["/v1/illust/ranking?mode=day&date=2026-10-20", "/v1/user/detail?user_id=7",
         "/v1/user/bookmarks/illust?user_id=1", "/v1/search/illust?word=%E7%8C%AB", "/v2/novel/detail?novel_id=20000123"]


def dump(world: World) -> str:
    ids = world.ranking("day", "2026-10-20")
    objs = [world.illust_obj(world.illust_by_id(i), 1) for i in ids[:20]]
    objs.append(world.user_detail(3, 1))
    objs.append(world.novel_obj(world.novel(77), 1))
    return json.dumps([objs, world.user_bookmarks(1), world.search_illust_ids("sandbox-rare")], sort_keys=True)


def test_same_seed_same_world_other_seed_differs() -> None:
    a, b, c = (World(SandboxConfig(seed=s, **SMALL)) for s in (1, 1, 2))
    assert dump(a) == dump(b) and dump(a) != dump(c)


def test_same_seed_same_http_json() -> None:
    bodies = []
    for _ in range(2):
        sb = start()
        try:
            from .conftest import Client
            c = Client(sb)
            c.refresh()
            text = "".join(c.get(p).text for p in PATHS)
            bodies.append(text.replace(sb.api_url, "API").replace(sb.image_url, "IMG"))
            c.close()
        finally:
            sb.stop()
    assert bodies[0] == bodies[1]


def test_config_one_list() -> None:
    names = setting_names()
    assert names["PIXIV_SANDBOX_SEED"] == 1 and names["PIXIV_SANDBOX_PAGE_SIZE"] == 30
    assert names["PIXIV_SANDBOX_TOKEN_LIFETIME"] == 3600 and names["PIXIV_SANDBOX_FAULT_5XX"] == 0.0
    cfg = SandboxConfig.from_settings(Settings({"PIXIV_SANDBOX_PAGE_SIZE": "7", "PIXIV_SANDBOX_FAULT_5XX": 0.5}))
    assert cfg.page_size == 7 and cfg.fault_5xx == 0.5 and cfg.seed == 1
    args = build_parser().parse_args(["--page-size", "5", "--fault-scope", "image"])
    cfg = SandboxConfig.from_args(args)
    assert cfg.page_size == 5 and cfg.fault_scope == "image"
    help_text = build_parser().format_help()
    for name in names:
        assert name in help_text


def test_scrapy_command_options_and_settings() -> None:
    cmd = Command()
    cmd.settings = Settings({"PIXIV_SANDBOX_SEED": 9, "PIXIV_SANDBOX_PAGE_SIZE": 12})
    parser = argparse.ArgumentParser()
    cmd.add_options(parser)
    opts = parser.parse_args(["--port", "8799", "--page-size", "3"])
    cfg = cmd.config(opts)
    assert (cfg.port, cfg.page_size, cfg.seed) == (8799, 3, 9)
    assert cmd.requires_project is False and "sandbox" in cmd.short_desc().lower()


def test_module_help_runs() -> None:
    out = subprocess.run([sys.executable, "-m", "pixivcrawl.sandbox", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "--fault-truncate" in out and "--rate-limit-style" in out
