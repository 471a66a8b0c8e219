"""Alembic migrations of the archive (run by :func:`pixivcrawl.db.engine.upgrade`)."""

#: The newest revision in ``versions/``: a database at this revision needs no migration, and
#: the crawl can tell without importing Alembic. A new migration changes it (a test checks it).
HEAD = "0009"
