"""Alembic migrations of the archive (run by :func:`pixivcrawl.db.engine.upgrade`)."""
