"""``scrapy login``: PKCE helpers, and the command end to end against a standalone sandbox."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from pixivcrawl import auth
from pixivcrawl.exceptions import AuthError
from tests.crawl import RunningSandbox

# --- helpers ---------------------------------------------------------------------------------------


def test_the_s256_challenge_matches_rfc_7636() -> None:
    assert auth.code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    verifier = auth.new_code_verifier()
    assert len(verifier) >= 43 and "=" not in auth.code_challenge(verifier)


def test_the_login_url_is_on_the_api_host() -> None:
    url = auth.login_url("https://app-api.pixiv.net", "v")
    assert url.startswith("https://app-api.pixiv.net/web/v1/login?code_challenge=")
    assert url.endswith("&code_challenge_method=S256&client=pixiv-android")
    assert auth.login_url("http://127.0.0.1:8700/", "v").startswith("http://127.0.0.1:8700/web/v1/login?")


@pytest.mark.parametrize(
    "pasted",
    [
        "abc-DEF_123",
        "  abc-DEF_123\n",
        "https://app-api.pixiv.net/web/v1/users/auth/pixiv/callback?state=xyz&code=abc-DEF_123",
        "pixiv://account/login?code=abc-DEF_123&via=login",
        "code=abc-DEF_123",
    ],
)
def test_the_code_is_found_in_whatever_was_pasted(pasted: str) -> None:
    assert auth.code_from(pasted) == "abc-DEF_123"


@pytest.mark.parametrize("pasted", ["", "   ", "https://example.com/callback?code=", "two words"])
def test_nothing_usable_pasted_is_a_clear_error(pasted: str) -> None:
    with pytest.raises(AuthError, match="no authorization code"):
        auth.code_from(pasted)


def test_the_code_grant_form_is_the_apps() -> None:
    form = auth.code_form("c", "v")
    assert form["grant_type"] == "authorization_code"
    assert form["redirect_uri"] == "https://app-api.pixiv.net/web/v1/users/auth/pixiv/callback"
    assert (form["code"], form["code_verifier"], form["include_policy"]) == ("c", "v", "true")


def test_grants_never_show_their_tokens() -> None:
    grant = auth.parse_grant(200, json.dumps({"response": {
        "access_token": "ACCESS-SECRET", "expires_in": 3600, "refresh_token": "REFRESH-SECRET",
        "user": {"id": "7", "name": "n", "account": "a"}}}).encode())
    assert grant.account == auth.Account(7, "n", "a")
    assert "SECRET" not in repr(grant) and "SECRET" not in str(grant)


def test_token_endpoint_refusals_carry_pixivs_reason() -> None:
    body = {"has_error": True, "errors": {"system": {"message": "The authorization code has expired", "code": 1508}},
            "error": "invalid_grant"}
    with pytest.raises(AuthError, match=r"^The authorization code has expired$"):
        auth.parse_grant(400, json.dumps(body).encode())
    with pytest.raises(AuthError, match="HTTP 503"):
        auth.parse_grant(503, b"<html>")


def test_an_unreachable_token_endpoint_is_one_clear_error() -> None:
    with pytest.raises(AuthError, match=re.escape("cannot reach the Pixiv token endpoint http://127.0.0.1:9/auth/token")):
        auth.verify_refresh_token("http://127.0.0.1:9/auth/token", "token")


# --- the command against a standalone sandbox -----------------------------------------------------


def login_args(sandbox: RunningSandbox, token_file: Path, *extra: str) -> list[str]:
    return ["login", "-s", f"PIXIV_API_URL={sandbox.server.api_url}", "-s", f"PIXIV_AUTH_URL={sandbox.server.auth_url}",
            "-s", f"PIXIV_TOKEN_FILE={token_file}", *extra]


def start_login(sandbox: RunningSandbox, token_file: Path, cwd: Path) -> tuple[subprocess.Popen[str], str]:
    """Start ``scrapy login`` and read the login URL it prints."""
    env = {k: v for k, v in os.environ.items() if k != "PIXIV_REFRESH_TOKEN"}
    env["SCRAPY_SETTINGS_MODULE"] = "pixivcrawl.settings"
    process = subprocess.Popen(
        [sys.executable, "-m", "scrapy", *login_args(sandbox, token_file)],
        cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if match := re.search(r"(http://\S+/web/v1/login\?\S+)", line):
            return process, match.group(1)
    process.kill()
    raise AssertionError(f"no login URL printed: {process.communicate()}")


def run_login(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``scrapy login ...`` with nothing on stdin, as from a script or cron."""
    env = {k: v for k, v in os.environ.items() if k != "PIXIV_REFRESH_TOKEN"}
    env["SCRAPY_SETTINGS_MODULE"] = "pixivcrawl.settings"
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=cwd, env=env, input="",
                          capture_output=True, text=True, timeout=60, check=False)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def browser_login(sandbox: RunningSandbox, url: str) -> str:
    """What a user does in the browser: open the login page, log in, copy the callback URL."""
    with urllib.request.urlopen(url) as response:
        page = response.read().decode()
    href = re.search(r'id="login" href="([^"]+)"', page).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    try:
        urllib.request.build_opener(_NoRedirect).open(sandbox.server.api_url + href)
    except urllib.error.HTTPError as redirect:
        return sandbox.server.api_url + redirect.headers["Location"]
    raise AssertionError("the sandbox login did not redirect to the callback")


@pytest.mark.slow
def test_login_end_to_end_stores_a_working_refresh_token_with_mode_0600(sandbox: RunningSandbox, tmp_path) -> None:
    token_file = tmp_path / "config" / "token.json"
    process, url = start_login(sandbox, token_file, tmp_path)
    assert url.startswith(f"{sandbox.server.api_url}/web/v1/login?code_challenge=")
    callback = browser_login(sandbox, url)
    out, err = process.communicate(callback + "\n", timeout=60)
    assert process.returncode == 0, err
    assert err == ""
    stored = json.loads(token_file.read_text())
    name, account = sandbox.server.world.user_name(sandbox.config.login_user_id)
    assert stored["user"] == {"id": sandbox.config.login_user_id, "name": name, "account": account}
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert f"Logged in as {name} (@{account}, user id {sandbox.config.login_user_id})" in out
    assert stored["refresh_token"] not in out
    assert not list(token_file.parent.glob(".*"))  # no pending verifier or temp file left
    # The stored token is one the token endpoint accepts.
    grant = auth.verify_refresh_token(sandbox.server.auth_url, stored["refresh_token"])
    assert grant.account is not None and grant.account.user_id == sandbox.config.login_user_id
    assert sandbox.stats()["code_exchanges"] == 1


@pytest.mark.slow
def test_an_expired_code_fails_with_one_line_and_non_zero_exit(make_sandbox, tmp_path) -> None:
    sandbox = make_sandbox(code_lifetime=0)
    token_file = tmp_path / "token.json"
    process, url = start_login(sandbox, token_file, tmp_path)
    _, err = process.communicate(browser_login(sandbox, url) + "\n", timeout=60)
    assert process.returncode == 1
    assert err.strip().splitlines() == [
        "pixivcrawl: login failed: The authorization code has expired; "
        "run `scrapy login` again and paste the code within 30 seconds"
    ]
    assert not token_file.exists()


@pytest.mark.slow
def test_a_code_for_another_verifier_fails_and_a_two_step_login_with_code_works(sandbox: RunningSandbox,
                                                                               tmp_path) -> None:
    token_file = tmp_path / "token.json"
    # Step 1 with nothing on stdin (a script): the URL is printed, the verifier kept for --code.
    first = run_login(*login_args(sandbox, token_file), cwd=tmp_path)
    assert first.returncode == 1
    assert first.stderr.strip().splitlines() == [
        "pixivcrawl: login failed: no code given; paste it here, or run `scrapy login --code CODE`"
    ]
    url = re.search(r"(http://\S+/web/v1/login\?\S+)", first.stdout).group(1)  # type: ignore[union-attr]
    # A code issued for some other login's challenge does not match our verifier.
    other = browser_login(sandbox, auth.login_url(sandbox.server.api_url, auth.new_code_verifier()))
    wrong = run_login(*login_args(sandbox, token_file, "--code", other), cwd=tmp_path)
    assert wrong.returncode == 1
    assert wrong.stderr.strip().splitlines() == ["pixivcrawl: login failed: Invalid code_verifier"]
    assert not token_file.exists()
    # Step 2 with the code of our own login.
    done = run_login(*login_args(sandbox, token_file, "--code", browser_login(sandbox, url)), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Logged in as" in done.stdout
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


@pytest.mark.slow
def test_login_with_a_known_token_checks_it_first(sandbox: RunningSandbox, tmp_path) -> None:
    token_file = tmp_path / "token.json"
    bad = run_login(*login_args(sandbox, token_file, "--token", "not-a-token"), cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == ["pixivcrawl: login failed: Invalid refresh token"]
    assert not token_file.exists()
    good = run_login(*login_args(sandbox, token_file, "--token", sandbox.config.refresh_token), cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "Logged in as" in good.stdout and sandbox.config.refresh_token not in good.stdout
    assert json.loads(token_file.read_text())["refresh_token"] == sandbox.config.refresh_token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


@pytest.mark.slow
def test_an_unreachable_server_exits_non_zero_with_one_line(tmp_path) -> None:
    result = run_login("login", "--token", "t", "-s", "PIXIV_AUTH_URL=http://127.0.0.1:9/auth/token",
                            "-s", f"PIXIV_TOKEN_FILE={tmp_path / 'token.json'}", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("pixivcrawl: login failed: cannot reach the Pixiv token endpoint http://127.0.0.1:9/")
