"""The token file: a group/world-readable one is refused before any request (exit 2, the chmod fix),
and a symlinked one stays a symlink when the refresh token rotates."""

from __future__ import annotations

import json
import os
import stat

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from pixivcrawl.auth import write_token_file
from tests.crawl import scrapy_command
from tests.hostile.network_server import Answer, Seen, crawl_with, hostile_settings, listing, token_answer

DATE = "2026-10-30"


@pytest.mark.parametrize("env_token", ["", "rt-from-env"])
def test_a_readable_token_file_is_refused_before_any_request(env_token, hostile, tmp_path) -> None:
    # Also when the token comes from the environment: a rotation would write the file.
    api = hostile(token_answer)
    token_file = tmp_path / "token.json"
    write_token_file(token_file, {"refresh_token": "rt-on-disk"})
    token_file.chmod(0o644)
    result = scrapy_command("crawl", "ranking", "-a", f"date={DATE}", "-s", f"PIXIV_API_URL={api.url()}",
                            "-s", f"PIXIV_AUTH_URL={api.url('/auth/token')}", "-s", f"PIXIV_TOKEN_FILE={token_file}",
                            cwd=tmp_path, env={"PIXIV_REFRESH_TOKEN": env_token} if env_token else None)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"pixivcrawl: token file {token_file} is readable by others (mode 0644); fix it with: chmod 600 {token_file}"
    )
    assert api.requests == []


@deferred_f_from_coro_f
async def test_a_symlinked_token_file_keeps_pointing_at_its_target_when_the_token_rotates(hostile, tmp_path) -> None:
    def answer(seen: Seen) -> Answer:
        if seen.path == "/auth/token":
            grant = token_answer(seen)
            grant.body["refresh_token"] = "rt-rotated"  # type: ignore[index]
            return grant
        return listing()

    api = hostile(answer)
    vault = tmp_path / "vault"
    vault.mkdir(mode=0o700)
    target = vault / "pixiv-token.json"
    write_token_file(target, {"refresh_token": "rt-old", "user": {"id": 1}})
    link = tmp_path / "config" / "token.json"
    link.parent.mkdir()
    link.symlink_to(target)
    settings = hostile_settings(tmp_path, api.url(), refresh_token="", PIXIV_TOKEN_FILE=str(link))
    crawler = await crawl_with(settings, date=DATE)
    assert crawler.stats.get_value("finish_reason") == "finished"
    assert b"refresh_token=rt-old" in api.requests[0].body
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert json.loads(target.read_text()) == {"refresh_token": "rt-rotated", "user": {"id": 1}}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in vault.iterdir()) == ["pixiv-token.json"]
