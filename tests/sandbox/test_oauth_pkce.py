"""PKCE login: the web pages, the code exchange, wrong verifier, expired and reused codes."""
from __future__ import annotations

import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from pixivcrawl.sandbox.oauth import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, s256

from .conftest import Client

EXPIRED = {"has_error": True, "errors": {"system": {"message": "The authorization code has expired", "code": 1508}},
           "error": "invalid_grant"}


def exchange(c: Client, code: str, verifier: str) -> requests.Response:
    return c.http.post(c.sb.auth_url, data={
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": code, "code_verifier": verifier,
        "grant_type": "authorization_code", "include_policy": "true", "redirect_uri": REDIRECT_URI})


def login_over_http(c: Client, challenge: str) -> str:
    page = c.http.get(c.sb.api_url + "/web/v1/login", params={
        "code_challenge": challenge, "code_challenge_method": "S256", "client": "pixiv-android"})
    assert page.status_code == 200 and "<form" in page.text
    link = re.search(r'id="login" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    r = c.http.get(c.sb.api_url + link, allow_redirects=False)
    assert r.status_code == 302
    location = r.headers["Location"]
    assert location.startswith("/web/v1/users/auth/pixiv/callback?")
    code = parse_qs(urlsplit(location).query)["code"][0]
    cb = c.http.get(c.sb.api_url + location)
    assert cb.status_code == 200 and code in cb.text
    return code


def test_pkce_flow_over_http(client: Client) -> None:
    verifier = secrets.token_urlsafe(32)
    code = login_over_http(client, s256(verifier))
    r = exchange(client, code, verifier)
    assert r.status_code == 200
    body = r.json()
    assert body["user"]["id"] == str(client.sb.config.login_user_id)
    new_refresh = body["refresh_token"]
    assert new_refresh != client.sb.config.refresh_token
    assert client.refresh(new_refresh).status_code == 200  # minted refresh tokens work
    assert client.get("/v1/user/detail", user_id=1).status_code == 200
    assert exchange(client, code, verifier).json() == EXPIRED  # single use


def test_wrong_verifier(client: Client) -> None:
    verifier = secrets.token_urlsafe(32)
    code = client.sb.issue_login_code(s256(verifier))
    r = exchange(client, code, "not-the-verifier")
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_expired_code(make_sandbox: Any) -> None:
    sb, c = make_sandbox(code_lifetime=1)
    verifier = secrets.token_urlsafe(32)
    code = sb.issue_login_code(s256(verifier))
    time.sleep(1.1)
    r = exchange(c, code, verifier)
    assert r.status_code == 400 and r.json() == EXPIRED
    assert c.stats()["code_exchanges"] == 0 and c.stats()["token_errors"] == 1
