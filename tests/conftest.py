"""Shared fixtures: sandboxes in threads, archives in tmp_path, the PostgreSQL gate."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.crawl import Archive, RunningSandbox


@pytest.fixture
def archive(tmp_path: Any) -> Archive:
    return Archive(tmp_path / "archive")


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., RunningSandbox]]:
    """Start sandboxes with the given knobs (``make_sandbox(token_lifetime=1)``); stopped after the test."""
    started: list[RunningSandbox] = []

    def make(**knobs: Any) -> RunningSandbox:
        sandbox = RunningSandbox(**knobs)
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(make_sandbox: Callable[..., RunningSandbox]) -> RunningSandbox:
    return make_sandbox()


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"
