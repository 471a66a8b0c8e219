"""The sandbox's admin endpoints validate their input: a bad /__clock step is a 400 with a message
and leaves the clock (and the sandbox) working."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from pixivcrawl.auth import verify_refresh_token


def post_clock(sandbox, advance: str) -> tuple[int, dict]:
    request = urllib.request.Request(f"{sandbox.server.api_url}/__clock?advance={advance}", method="POST")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


@pytest.mark.parametrize("advance", ["1e300", "-1e300", "nan", "inf", "abc", "9" * 400])
def test_a_bad_clock_step_is_refused_and_changes_nothing(sandbox, advance) -> None:
    status, body = post_clock(sandbox, advance)
    assert status == 400
    assert f"advance={advance!r}" in body["error"] and "expected seconds" in body["error"]
    status, body = post_clock(sandbox, "86400")
    assert status == 200 and body["advance"] == 86400


def test_scrapy_sandbox_tls_prints_the_ca_a_crawl_trusts(tmp_path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "sandbox", "--tls", "--tls-dir", str(tmp_path / "tls")],
        cwd=tmp_path, stdout=subprocess.PIPE, text=True,
    )
    try:
        addresses, trust = process.stdout.readline(), process.stdout.readline()  # type: ignore[union-attr]
        auth_url = addresses.split(" auth ", 1)[1].split()[0]
        ca = tmp_path / "tls" / "ca.pem"
        assert auth_url.startswith("https://127.0.0.1:")
        assert f"PIXIV_CA_BUNDLE={ca}" in trust
        grant = verify_refresh_token(auth_url, "sandbox-refresh-token", ca_bundle=str(ca))
        assert grant.account is not None
    finally:
        process.terminate()
        process.wait(10)
