"""`scrapy browse` on a sandbox archive, and a real headless Chromium to look at it."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browse.archive import build
from tests.conftest import in_ci
from tests.crawl import Archive

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


def need(condition: bool, reason: str) -> None:
    """Skip locally when something the browse tests need is missing; fail under CI=true."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI=true: the browse tests must run)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Browse:
    """A running `scrapy browse` and the archive it serves."""

    url: str
    archive: Archive

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()


@pytest.fixture(scope="session")
def browse_archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return build(tmp_path_factory.mktemp("browse"))


@contextlib.contextmanager
def running_browse(archive: Archive, *settings: str) -> Iterator[Browse]:
    """`scrapy browse` on ``archive`` (with ``-s`` ``settings``), as a user starts it; stopped on exit."""
    need(importlib.util.find_spec("datasette") is not None, "Datasette is not installed (pip install -e '.[browse]')")
    port = free_port()
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "pixivcrawl.settings"}
    extra = [arg for setting in settings for arg in ("-s", setting)]
    process = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "browse", "--port", str(port),
         "-s", f"PIXIV_DATABASE_URL=sqlite:///{archive.db_path}", "-s", f"FILES_STORE={archive.files}", *extra],
        cwd=archive.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    running = Browse(f"http://127.0.0.1:{port}", archive)
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                if running.get("/-/versions.json")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"scrapy browse did not start: {process.communicate()[0][-3000:]}")
            time.sleep(0.2)
        yield running
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def browse(browse_archive: Archive) -> Iterator[Browse]:
    with running_browse(browse_archive) as running:
        yield running


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser tests save what they saw (pytest's tmp dir, never committed)."""
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    need(bool(CHROMIUM and CHROMEDRIVER), "Chromium and chromedriver are not installed "
                                          "(apt-get install chromium chromium-driver)")
    need(importlib.util.find_spec("selenium") is not None, "Selenium is not installed (pip install -e '.[test]')")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,4000", "--lang=en"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
