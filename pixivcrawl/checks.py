"""Checks of settings that must fail before any request, with a message that names the fix.

Every command checks the setting names (:func:`check_setting_names`, cheap); only a crawl
checks the rest, which needs the database, the auth and TLS modules: those are imported
by the functions that use them, so ``scrapy list`` or ``scrapy db`` does not load them.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from pixivcrawl import settings as project_settings
from pixivcrawl.api import FILTERS
from pixivcrawl.config import CONFIG_PRIORITY, config_path
from pixivcrawl.exceptions import ArgumentError, AuthError
from pixivcrawl.hosts import HostPolicy

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def known_setting_names() -> set[str]:
    """Every ``PIXIV_*`` setting pixivcrawl reads: settings.py's, and the in-process sandbox's knobs."""
    from pixivcrawl.sandbox.config import setting_names

    return {name for name in dir(project_settings) if name.startswith("PIXIV_")} | set(setting_names())


def check_setting_names(settings: BaseSettings) -> None:
    """Raise ArgumentError for a ``PIXIV_*`` setting pixivcrawl does not know (a typo would be ignored)."""
    known = known_setting_names()
    for name in sorted(str(n) for n in settings):
        if name.upper().startswith("PIXIV") and name not in known:
            close = difflib.get_close_matches(name.upper(), sorted(known), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else "; see the README's settings table"
            where = f" (config file {config_path()})" if settings.getpriority(name) == CONFIG_PRIORITY else ""
            raise ArgumentError(f"unknown setting {name}{where}{hint}")


def check_archive(settings: BaseSettings) -> None:
    """Raise ArgumentError when this crawl (real or sandbox) would mix with an archive of the other kind."""
    from pixivcrawl.db.archive import CONTENTS_KEY, archive_meta
    from pixivcrawl.db.engine import mask_url

    url = settings["PIXIV_DATABASE_URL"]
    contents = archive_meta(url).get(CONTENTS_KEY)
    if settings.getbool("PIXIV_SANDBOX"):
        if contents == "pixiv":
            raise ArgumentError(
                f"PIXIV_DATABASE_URL {mask_url(url)} holds a real Pixiv archive; a sandbox crawl "
                "writes only into a demo archive (leave PIXIV_DATABASE_URL unset for data/sandbox.db)"
            )
    elif contents == "sandbox":
        raise ArgumentError(
            f"PIXIV_DATABASE_URL {mask_url(url)} holds the sandbox demo's fake works; "
            "give a real crawl its own archive with -s PIXIV_DATABASE_URL=... (or delete the demo archive)"
        )


def check_settings(settings: BaseSettings) -> None:
    """Raise ArgumentError for the first setting that cannot work."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError as SQLAlchemyArgumentError

    from pixivcrawl.auth import read_token_file, resolve_refresh_token
    from pixivcrawl.pipelines.ugoira import FORMATS as UGOIRA_FORMATS
    from pixivcrawl.tls import load_bundle

    check_setting_names(settings)
    fmt = settings["PIXIV_UGOIRA_FORMAT"]
    if fmt not in UGOIRA_FORMATS:
        raise ArgumentError(f"bad PIXIV_UGOIRA_FORMAT={fmt!r}; expected one of: {', '.join(UGOIRA_FORMATS)}")
    url = settings["PIXIV_DATABASE_URL"]
    try:
        make_url(url)
    except SQLAlchemyArgumentError:
        raise ArgumentError(
            "bad PIXIV_DATABASE_URL: expected a SQLAlchemy URL such as sqlite:///data/pixiv.db "
            "or postgresql+psycopg://user@host/db"
        ) from None
    for name, least in (("PIXIV_DB_BATCH_SIZE", 1), ("PIXIV_TOKEN_REFRESH_MARGIN", 0),
                        ("PIXIV_RUN_HEARTBEAT_INTERVAL", 0.1), ("PIXIV_MAX_PAGES", 1)):
        try:
            value = settings.getfloat(name)
        except ValueError:
            value = -1
        if value < least:
            raise ArgumentError(f"bad {name}={settings[name]!r}; expected a positive number")
    if settings["PIXIV_FILTER"] not in FILTERS:
        raise ArgumentError(f"bad PIXIV_FILTER={settings['PIXIV_FILTER']!r}; expected for_ios, for_android or '' (empty)")
    if not settings.getlist("PIXIV_IMAGE_HOSTS"):
        raise ArgumentError("PIXIV_IMAGE_HOSTS is empty; expected i.pximg.net (and any mirror hosts)")
    for problem in HostPolicy.from_settings(settings).setting_problems():
        raise ArgumentError(problem)
    if not settings.getbool("DOWNLOAD_VERIFY_CERTIFICATES"):
        raise ArgumentError(
            "DOWNLOAD_VERIFY_CERTIFICATES=False is refused: pixivcrawl always verifies TLS; "
            "set PIXIV_CA_BUNDLE to a CA file to trust a private CA instead"
        )
    if settings["PIXIV_CA_BUNDLE"]:
        load_bundle(settings["PIXIV_CA_BUNDLE"])
    if not settings.getbool("PIXIV_SANDBOX"):
        try:
            # Read even when the token comes from the environment: a rotation writes it.
            read_token_file(settings["PIXIV_TOKEN_FILE"])
            resolve_refresh_token(settings["PIXIV_REFRESH_TOKEN"], settings["PIXIV_TOKEN_FILE"])
        except AuthError as exc:
            raise ArgumentError(str(exc)) from None
    check_archive(settings)
