"""Worker fixtures: a real Redis database (emptied before and after each test), PostgreSQL schemas, worker processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa

from tests.conftest import in_ci
from tests.crawl import REPO, RunningSandbox
from tests.db.conftest import _postgres_url, postgres_server  # noqa: F401 (a fixture)

#: Redis database of the worker tests (they empty it): never 0, which others may use.
REDIS_URL = os.environ.get("PIXIV_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


@pytest.fixture
def redis_url() -> Iterator[str]:
    """An empty Redis database at PIXIV_TEST_REDIS_URL; skipped when absent, except under CI=true."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        reason = f"Redis at {REDIS_URL} is unreachable: {exc}"
        if in_ci():
            pytest.fail(f"{reason} (CI=true: Redis tests must run)")
        pytest.skip(reason)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def make_pg_url(postgres_server: sa.Engine) -> Iterator[Callable[[], str]]:  # noqa: F811
    """Fresh PostgreSQL schemas (``make_pg_url()``), dropped after the test."""
    made: list[Iterator[str]] = []

    def make() -> str:
        schema = _postgres_url(postgres_server)
        made.append(schema)
        return next(schema)

    yield make
    for schema in made:
        next(schema, None)


def setting_args(settings: dict[str, Any]) -> list[str]:
    args = []
    for name, value in settings.items():
        if isinstance(value, list):
            text = ",".join(map(str, value))
        else:
            text = json.dumps(value) if isinstance(value, dict) else str(value)
        args += ["-s", f"{name}={text}"]
    return args


def worker_settings(sandbox: RunningSandbox, root: Path, db_url: str, **overrides: Any) -> dict[str, Any]:
    """Settings of a worker process (or the one-process crawl without PIXIV_REDIS_URL)."""
    return {
        **sandbox.settings,
        "PIXIV_DATABASE_URL": db_url,
        "FILES_STORE": str(root / "files"),
        "PIXIV_TOKEN_FILE": str(root / "token.json"),
        "PIXIV_DB_FLUSH_INTERVAL": 0.5,
        "PIXIV_RUN_HEARTBEAT_INTERVAL": 1,
        "PIXIV_RETRY_BACKOFF": 0.01,
        "LOG_LEVEL": "INFO",
        **overrides,
    }


def start_worker(spider: str, args: dict[str, str], settings: dict[str, Any], log: Path) -> subprocess.Popen[bytes]:
    """``scrapy crawl <spider> -a ...`` as a user would start it, logging to ``log``."""
    env = {k: v for k, v in os.environ.items() if k != "PIXIV_REFRESH_TOKEN"}
    env["SCRAPY_SETTINGS_MODULE"] = "pixivcrawl.settings"
    command = [sys.executable, "-m", "scrapy", "crawl", spider]
    for name, value in args.items():
        command += ["-a", f"{name}={value}"]
    with log.open("wb") as out:
        return subprocess.Popen(command + setting_args(settings), cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)


def pg_snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted, without the runs' bookkeeping (crawl_runs, work_events, *_at times); ports unported."""
    from tests.crawl import UNSTABLE_COLUMNS, _unported  # noqa: PLC0415

    engine = sa.create_engine(url)
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        out = {}
        with engine.connect() as connection:
            for name, table in metadata.tables.items():
                if name in {"crawl_runs", "work_events", "alembic_version"}:
                    continue
                columns = [c for c in table.columns if not c.name.endswith("_at") and c.name not in UNSTABLE_COLUMNS]
                rows = connection.execute(sa.select(*columns)).all()
                out[name] = sorted((tuple(_unported(v) for v in row) for row in rows), key=repr)
        return out
    finally:
        engine.dispose()


def crawl_runs(url: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(sa.text("SELECT * FROM crawl_runs ORDER BY id"))]
    finally:
        engine.dispose()


def redis_values(client: redis.Redis) -> dict[bytes, list[bytes]]:
    """Every key of the database with every value it holds (strings, lists, sets, sorted sets, hashes)."""
    out: dict[bytes, list[bytes]] = {}
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        try:
            if kind == b"string":
                values = [client.get(key) or b""]
            elif kind == b"list":
                values = client.lrange(key, 0, -1)
            elif kind == b"set":
                values = list(client.smembers(key))
            elif kind == b"zset":
                values = client.zrange(key, 0, -1)
            elif kind == b"hash":
                values = [b for pair in client.hgetall(key).items() for b in pair]
            else:
                values = []
        except redis.exceptions.ResponseError:  # the key changed type or vanished meanwhile
            values = []
        out[key] = values
    return out
