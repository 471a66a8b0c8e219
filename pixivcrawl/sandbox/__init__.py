"""Fake Pixiv App API, OAuth server and image hosts for tests, benchmarks and the offline demo."""
from __future__ import annotations

from .config import SandboxConfig
from .server import Sandbox
from .world import World

__all__ = ["Sandbox", "SandboxConfig", "World"]
