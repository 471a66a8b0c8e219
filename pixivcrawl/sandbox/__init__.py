"""Fake Pixiv App API, OAuth server and image hosts for tests, benchmarks and the offline demo."""
from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Sandbox", "SandboxConfig", "World"]

# Loaded on first use: every `scrapy` command imports the sandbox command, which
# only needs the config, and the server (aiohttp) costs half a second to import.
_HOMES = {"Sandbox": ".server", "SandboxConfig": ".config", "World": ".world"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name], __name__), name)
