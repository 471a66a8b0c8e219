"""Engines for the archive database and its migrations to the current schema."""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from pixivcrawl.db.migrations import HEAD

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection, Engine

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
# Arbitrary but fixed: workers sharing one PostgreSQL migrate one at a time.
_PG_MIGRATION_LOCK = 7_201_407_317


def mask_url(url: str | sa.URL) -> str:
    """The URL as it may appear in logs: the password replaced by ``***``."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparseable database URL>"


#: Statements each SQLite connection keeps prepared (the driver's default is 128). A batch's
#: reads are ``IN (?, ?, ...)`` lists as long as the batch's ids, each length its own statement of
#: ~50 KB in SQLite: over a long crawl every length came once and the full cache held 4-6 MB per
#: pooled connection, most of the growth of peak RSS up to 120k works. A batch runs fewer than this
#: many distinct statements, so the repeated ones (the upserts) stay prepared.
SQLITE_CACHED_STATEMENTS = 32


#: Page cache of each SQLite connection, KiB: SQLite's default. 8 MB made the store's SQLite work
#: 17% cheaper (a batch's dirty pages spill to the WAL before the commit with 2 MB), but the pooled
#: connections filled it as the archive grew: peak RSS 145 -> 167 MB from 30k to 300k works against
#: 139 -> 152 MB with 2 MB (bench/bench_memory.py, same run). The memory target wins.
SQLITE_CACHE_KIB = 2000
#: WAL pages after which a commit copies the WAL into the database (SQLite's default is 1000):
#: a batch writes more than that, so each commit checkpointed the pages it had just written.
#: With 4000 the pages a few batches rewrite (indexes, the search index) are copied once:
#: commits take 37% less CPU; the WAL file grows to ~16 MB between checkpoints.
SQLITE_WAL_AUTOCHECKPOINT = 4000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # First: switching a fresh file to WAL takes a lock another crawl may hold.
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT}")
    cursor.close()


def create_engine(url: str | sa.URL, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite files get WAL, foreign keys and their parent directory."""
    url = sa.make_url(url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            if "poolclass" not in kwargs:
                # The store's thread takes the connection it returned last: a second one, opened
                # when another thread read at the same time, stays idle instead of taking turns
                # and filling its own page and statement caches (2-3 MB).
                kwargs.setdefault("pool_use_lifo", True)
        kwargs.setdefault("connect_args", {}).setdefault("cached_statements", SQLITE_CACHED_STATEMENTS)
        engine = sa.create_engine(url, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        # An unroutable host would otherwise hang the crawl's start for minutes.
        kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", 10)
    return sa.create_engine(url, **kwargs)


def machine_fault(exc: BaseException) -> bool:
    """Whether ``exc`` is the machine's or the server's fault (gone, full, read-only, locked), not the data's.

    Those are retried with a pause (an outage may end); a data error is not, it
    costs only the items that carry it.
    """
    if isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError, OSError)):
        return True
    return isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated


def sqlite_file(url: str | sa.URL) -> Path | None:
    """The database file of a SQLite URL (None for other databases and in-memory ones)."""
    url = sa.make_url(url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return None
    return Path(url.database).expanduser()


@contextlib.contextmanager
def migration_lock(url: str | sa.URL) -> Iterator[None]:
    """Hold ``<database>.lock`` beside a SQLite file: crawls started together migrate one at a time.

    PostgreSQL takes an advisory lock inside the migration's transaction instead.
    """
    path = sqlite_file(url)
    if path is None:
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def begin_write(engine: Engine) -> Iterator[Connection]:
    """``engine.begin()`` for a transaction that reads then writes.

    On SQLite it takes the write lock at once (``BEGIN IMMEDIATE``): a deferred
    transaction that read before another crawl committed would fail with
    "database is locked" instead of waiting its turn (busy timeout).
    """
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        yield connection


# Alembic (with Mako and Pygments, ~0.1 CPU s to import) is imported only where a migration
# runs or is inspected: a crawl on a database already at HEAD never imports it.


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the shipped migrations; no alembic.ini needed."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Leave autogenerate blind to what migrations create by hand (FTS tables, expression indexes)."""
    return not (reflected and compare_to is None)


def head_revision() -> str:
    """The newest revision of the shipped migrations, as Alembic finds it (equal to ``HEAD``)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def at_head(engine: Engine) -> bool:
    """Whether the database is at ``HEAD``, read from Alembic's version table without Alembic.

    Alembic writes the new revision in the same transaction as the migration's DDL: a
    database that reads HEAD is fully migrated. Anything else (no version table, an
    older or unknown revision, several heads) is not. A database that cannot be reached
    raises here as it would in the migration.
    """
    with engine.connect() as connection:
        try:
            versions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
        except sa.exc.DBAPIError:  # no version table: an empty database
            return False
    return versions == [HEAD]


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate the database to ``revision``; returns (before, after)."""
    if revision in ("head", HEAD) and at_head(engine):
        return HEAD, HEAD
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    with migration_lock(engine.url), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(alembic_config(connection), revision)
        after = MigrationContext.configure(connection).get_current_revision()
    if before != after:
        logger.info(
            "migrated database %s from %s to %s", mask_url(engine.url), before or "empty", after
        )
    return before, after
