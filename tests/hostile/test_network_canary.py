"""Everything hostile at once, run as a user runs it: no token reaches the canary, or any file the
crawl leaves (DEBUG log, JOBDIR, database, feed), and the good data is archived."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.crawl import Archive, scrapy_command
from tests.hostile.network_server import ACCESS_PREFIX, Answer, Seen, files_text, listing, token_answer

DATE = "2026-10-30"
RANKING = "/v1/illust/ranking"
REFRESH = "rt-canary-secret-0123456789"
SAMPLE = json.loads((Path(__file__).parent.parent / "samples" / "illust_multi.json").read_text())


@pytest.mark.slow
def test_no_token_reaches_the_canary_or_any_file(hostile, trusted, tmp_path) -> None:
    canary = hostile()
    steal = canary.url("/steal")

    def answer(seen: Seen) -> Answer:
        if seen.path == "/auth/token":
            return token_answer(seen)
        page = seen.target.rsplit("p=", 1)[-1] if "p=" in seen.target else "1"
        illust = json.loads(json.dumps(SAMPLE).replace("https://i.pximg.net", canary.url()))
        if page == "1":  # a work whose files are on the canary, and a next page on the API origin
            return listing([illust], next_url=api.url(f"{RANKING}?mode=day&date={DATE}&p=2"))
        if page == "2":  # a same-origin redirect (followed without its token in the queue)
            return Answer(302, b"", {"Location": f"{RANKING}?mode=day&date={DATE}&p=3"})
        if page == "3":  # an off-origin redirect
            return Answer(307, b"", {"Location": f"{steal}?p=4"})
        return listing()

    api = hostile(answer, certificates=trusted)
    root = tmp_path / "run"
    root.mkdir()
    result = scrapy_command(
        "crawl", "ranking", "-a", f"date={DATE}", "-O", str(root / "out.jsonl"),
        "-s", f"PIXIV_API_URL={api.url()}", "-s", f"PIXIV_AUTH_URL={api.url('/auth/token')}",
        "-s", f"PIXIV_CA_BUNDLE={trusted.ca}", "-s", f"PIXIV_DATABASE_URL=sqlite:///{root / 'pixiv.db'}",
        "-s", f"FILES_STORE={root / 'files'}", "-s", f"PIXIV_TOKEN_FILE={root / 'token.json'}",
        "-s", f"JOBDIR={root / 'job'}", "-s", "LOG_LEVEL=DEBUG", "-s", f"LOG_FILE={root / 'crawl.log'}",
        cwd=tmp_path, env={"PIXIV_REFRESH_TOKEN": REFRESH},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert canary.requests == []
    stats = (root / "crawl.log").read_text()
    assert "'pixivcrawl/files/refused_host': 2" in stats and "'pixivcrawl/requests/refused_redirect': 1" in stats
    assert [s.target.rsplit("p=", 1)[-1] for s in api.requests if s.path == RANKING][1:] == ["2", "3"]
    assert Archive(root).count("illusts") == 1
    leaked = files_text(root) + result.stdout.encode() + result.stderr.encode()
    assert REFRESH.encode() not in leaked and ACCESS_PREFIX.encode() not in leaked
