"""Every fault knob produces exactly what it says; faults repeat and give way to retries."""
from __future__ import annotations

import http.client
import json
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from .conftest import APP_REFERER, Client

RATE_LIMIT = {"error": {"user_message": "", "message": "Rate Limit", "reason": "", "user_message_details": {}}}


def raw_get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes, bool]:
    """(status, headers, body read, complete?) without requests' retries or length checks."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    try:
        conn.request("GET", u.path + ("?" + u.query if u.query else ""), headers=headers)
        r = conn.getresponse()
        try:
            body, complete = r.read(), True
        except http.client.IncompleteRead as e:
            body, complete = e.partial, False
        return r.status, dict(r.getheaders()), body, complete
    finally:
        conn.close()


def first_image(c: Client) -> str:
    ill = c.json("/v1/illust/detail", illust_id=c.sb.world.ranking("day", "2026-10-20")[0])["illust"]
    return ill["meta_single_page"].get("original_image_url") or ill["meta_pages"][0]["image_urls"]["original"]


def authed(c: Client, _: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {c.token}"}


@pytest.mark.parametrize("scope", ["api", "image"])
def test_truncate(make_sandbox: Any, scope: str) -> None:
    sb, c = make_sandbox(fault_truncate=1.0, fault_scope=scope)
    for _ in range(4):  # the token request is truncated too, up to fault_max_consecutive times
        try:
            if c.refresh().status_code == 200:
                break
        except requests.RequestException:
            pass
    assert c.token
    if scope == "api":
        url, headers = sb.api_url + "/v1/illust/ranking?mode=day", authed(c, "")
    else:
        url, headers = sb.image_url + "/common/images/limit_unknown_360.png", APP_REFERER
    status, h, body, complete = raw_get(url, headers)
    assert status == 200 and not complete and len(body) < int(h["Content-Length"])
    assert c.stats()["faults"]["truncate"] >= 1


def test_reset(make_sandbox: Any) -> None:
    sb, c = make_sandbox(fault_reset=1.0, fault_scope="image")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, socket.error)):
        raw_get(sb.image_url + "/common/images/no_profile.png", APP_REFERER)
    assert c.stats()["faults"] == {"reset": 1}


def test_5xx_then_success_after_max_consecutive(make_sandbox: Any) -> None:
    sb, _c = make_sandbox(fault_5xx=1.0, fault_scope="image")
    url = sb.image_url + "/common/images/no_profile.png"
    statuses = [requests.get(url, headers=APP_REFERER).status_code for _ in range(5)]
    assert all(s >= 500 for s in statuses[:3]) and statuses[3] == 200 and statuses[4] >= 500


def test_429_has_retry_after(make_sandbox: Any) -> None:
    _sb, c = make_sandbox(fault_429=1.0, fault_scope="api", retry_after=2)
    r = c.refresh()
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"


def test_malformed_json(make_sandbox: Any) -> None:
    _sb, c = make_sandbox(fault_malformed=1.0, fault_scope="api")
    assert c.refresh().status_code == 200  # the token endpoint is not made malformed
    r = c.get("/v1/illust/ranking")
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.text)


def test_rate_limit_fault_body(make_sandbox: Any) -> None:
    _sb, c = make_sandbox(fault_rate_limit=1.0)
    c.refresh()
    r = c.get("/v1/illust/ranking")
    assert r.status_code == 403 and r.json() == RATE_LIMIT


def test_token_expiry_fault(make_sandbox: Any) -> None:
    _sb, c = make_sandbox(fault_token_expiry=1.0)
    c.refresh()
    r = c.get("/v1/illust/ranking")
    assert r.status_code == 400 and r.json()["error"]["message"].endswith("invalid_grant")
    assert c.stats()["faults"] == {"token_expiry": 1}


def test_faults_repeatable_and_survivable(make_sandbox: Any) -> None:
    def run() -> list[int]:
        sb, _c = make_sandbox(fault_5xx=0.5, fault_seed=7, fault_scope="image")
        out = []
        for i in range(30):
            url = f"{sb.image_url}/common/images/novel_thumb/novel_thumb_{i}_240mw.jpg"
            for _attempt in range(5):
                s = requests.get(url, headers=APP_REFERER).status_code
                out.append(s)
                if s == 200:
                    break
            assert s == 200
        return out
    a, b = run(), run()
    assert a == b and any(s >= 500 for s in a)


@pytest.mark.parametrize("style", ["403", "429"])
def test_rate_limit_knob(make_sandbox: Any, style: str) -> None:
    _sb, c = make_sandbox(rate_limit=3, rate_limit_window=30, rate_limit_style=style, retry_after=1)
    c.refresh()  # the token endpoint is not rate limited
    statuses = [c.get("/v1/illust/ranking").status_code for _ in range(4)]
    assert statuses[:3] == [200, 200, 200]
    r = c.get("/v1/illust/ranking")
    assert r.json() == RATE_LIMIT
    if style == "429":
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    else:
        assert r.status_code == 403
    assert c.stats()["rate_limited"] == 2
