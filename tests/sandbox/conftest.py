"""Fixtures: a sandbox on random 127.0.0.1 ports, a logged-in requests session, small worlds."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from pixivcrawl.sandbox import Sandbox, SandboxConfig
from pixivcrawl.sandbox.oauth import CLIENT_ID, CLIENT_SECRET

SMALL = {"num_illusts": 200_000, "num_novels": 20_000, "num_users": 2_000}
APP_REFERER = {"Referer": "https://app-api.pixiv.net/"}


class Client:
    """Minimal HTTP client for the sandbox (the crawler under test has its own)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox
        self.http = requests.Session()
        self.token: str | None = None

    def refresh(self, refresh_token: str | None = None) -> requests.Response:
        r = self.http.post(self.sb.auth_url, data={
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "refresh_token",
            "refresh_token": refresh_token or self.sb.config.refresh_token})
        if r.status_code == 200:
            self.token = r.json()["access_token"]
        return r

    def get(self, path: str, auth: bool = True, **params: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        url = path if path.startswith("http") else self.sb.api_url + path
        return self.http.get(url, params=params or None, headers=headers)

    def json(self, path: str, **params: Any) -> Any:
        r = self.get(path, **params)
        assert r.status_code == 200, (r.status_code, r.text[:500])
        return r.json()

    def stats(self) -> dict[str, Any]:
        return self.http.get(self.sb.api_url + "/__stats").json()

    def close(self) -> None:
        self.http.close()


def start(**overrides: Any) -> Sandbox:
    return Sandbox(SandboxConfig(**{**SMALL, **overrides})).start_in_thread()


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    sb = start()
    yield sb
    sb.stop()


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Client]:
    c = Client(sandbox)
    assert c.refresh().status_code == 200
    yield c
    c.close()


@pytest.fixture
def make_sandbox() -> Iterator[Any]:
    """Factory for a dedicated sandbox with knobs; stopped after the test."""
    made: list[tuple[Sandbox, Client]] = []

    def factory(**overrides: Any) -> tuple[Sandbox, Client]:
        sb = start(**overrides)
        c = Client(sb)
        made.append((sb, c))
        return sb, c
    yield factory
    for sb, c in made:
        c.close()
        sb.stop()
