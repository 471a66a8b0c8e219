"""Fixtures of the hostile-server suite: fake servers on 127.0.0.1 and a CA to trust, stopped after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from pixivcrawl.sandbox.tls import Certificates, make_certificates
from tests.hostile.data_server import make_data_sandbox
from tests.hostile.network_server import HostileServer

# Fixtures defined beside their server, offered to every test module here.
__all__ = ["hostile", "make_data_sandbox", "trusted"]


@pytest.fixture
def hostile() -> Iterator[Callable[..., HostileServer]]:
    """Start hostile servers (``hostile(handler, certificates=...)``); all stopped after the test."""
    with ExitStack() as stack:

        def start(*args: Any, **kwargs: Any) -> HostileServer:
            server = HostileServer(*args, **kwargs)
            stack.callback(server.stop)
            return server

        yield start


@pytest.fixture
def trusted(tmp_path: Path) -> Certificates:
    """A CA (``trusted.ca``, for PIXIV_CA_BUNDLE) and a certificate it signed for 127.0.0.1."""
    return make_certificates(tmp_path / "tls")
