"""The config file: one TOML file of settings, read above settings.py and below ``-s``.

``~/.config/pixivcrawl/config.toml`` (or the file ``PIXIVCRAWL_CONFIG`` names) holds
any setting at its top level, by its name::

    PIXIV_DATABASE_URL = "postgresql+psycopg://archive@db/pixiv"
    FILES_STORE = "/srv/pixiv/files"
    PIXIV_UGOIRA_FORMAT = "gif"

Where a value comes from, lowest first: settings.py, this file (CONFIG_PRIORITY),
a plan job's settings (a priority between the two), then ``-s`` (Scrapy's cmdline).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.settings import SETTINGS_PRIORITIES

from pixivcrawl.exceptions import ArgumentError

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

ENV_VAR = "PIXIVCRAWL_CONFIG"
DEFAULT_PATH = Path("~/.config/pixivcrawl/config.toml")
#: Above settings.py ("project", 20), below a spider's own settings (30) and ``-s`` (40).
CONFIG_PRIORITY = SETTINGS_PRIORITIES["project"] + 5


def config_path() -> Path | None:
    """The config file to read: ``PIXIVCRAWL_CONFIG`` (which must exist), else the default if it exists."""
    named = os.environ.get(ENV_VAR)
    if named:
        return Path(named).expanduser()
    path = DEFAULT_PATH.expanduser()
    return path if path.is_file() else None


def read_config(path: Path) -> dict[str, Any]:
    """The settings in ``path``; ArgumentError (one line) when it is missing, not TOML, or not settings."""
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ArgumentError(f"config file {path}: {exc.strerror}; fix {ENV_VAR} or create the file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ArgumentError(f"config file {path}: not valid TOML ({exc})") from None
    tables = [key for key, value in data.items() if isinstance(value, dict) and not key.isupper()]
    if tables:
        raise ArgumentError(
            f"config file {path}: [{tables[0]}] is not a setting; write settings at the top level, "
            "e.g. PIXIV_UGOIRA_FORMAT = \"gif\""
        )
    return data


def apply_config(settings: BaseSettings) -> Path | None:
    """Read the config file into ``settings`` at CONFIG_PRIORITY; returns the file read, if any."""
    path = config_path()
    if path is None:
        return None
    settings.setdict(read_config(path), priority=CONFIG_PRIORITY)
    return path
