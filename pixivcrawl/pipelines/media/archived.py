"""What the archive already holds, so a file is not downloaded twice."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from pixivcrawl.models import Illust, Novel, NovelText, StoredFile, User
from pixivcrawl.pipelines.media.files import COMMON_IMAGES
from pixivcrawl.pipelines.media.paths import cover_path, full_size_avatar, profile_image_path

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Target:
    """One file an item wants: where it comes from, where it goes, and where its facts land."""

    kind: str
    url: str
    path: str
    assign: Callable[[StoredFile], None]
    label: str


@dataclass(frozen=True, slots=True)
class Recorded:
    """What the archive database says about a path: its source URL and, if recorded, its facts."""

    url: str
    file: StoredFile | None


class ArchivedFiles:
    """Reads the facts earlier runs recorded, so unchanged files are neither fetched nor re-read."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from pixivcrawl.db.engine import create_engine

            self._engine = create_engine(self.database_url)
        return self._engine

    def query(self, sql: str | sa.TextClause, **params: Any) -> list[sa.Row]:
        statement = sa.text(sql) if isinstance(sql, str) else sql
        try:
            with self.engine.connect() as connection:
                return list(connection.execute(statement, params))
        except sa.exc.SQLAlchemyError as exc:
            # A fresh or foreign database: nothing is known, everything is fetched.
            logger.debug("No archived file facts (%s)", exc.__class__.__name__)
            return []

    def pages(self, illust: Illust) -> dict[str, Recorded]:
        rows = self.query(
            "SELECT file_url, local_path, size, sha256, width, height FROM illust_pages "
            "WHERE illust_id = :id AND local_path IS NOT NULL",
            id=illust.id,
        )
        return {
            r.local_path: Recorded(
                r.file_url,
                StoredFile(
                    url=r.file_url,
                    local_path=r.local_path,
                    size=r.size,
                    sha256=r.sha256,
                    width=r.width,
                    height=r.height,
                )
                if r.size is not None and r.sha256
                else None,
            )
            for r in rows
            if r.file_url
        }

    def novel_images(self, text: NovelText) -> dict[str, Recorded]:
        rows = self.query(
            "SELECT url, local_path, size, sha256 FROM novel_images WHERE novel_id = :id AND local_path IS NOT NULL",
            id=text.novel_id,
        )
        return {
            r.local_path: Recorded(
                r.url,
                StoredFile(url=r.url, local_path=r.local_path, size=r.size, sha256=r.sha256)
                if r.size is not None and r.sha256
                else None,
            )
            for r in rows
            if r.url
        }

    def profile_images(self, users: list[User]) -> dict[str, Recorded]:
        ids = sorted({u.id for u in users})
        if not ids:
            return {}
        statement = sa.text("SELECT id, profile_image_url FROM users WHERE id IN :ids").bindparams(
            sa.bindparam("ids", expanding=True)
        )
        recorded = {}
        for user_id, url in self.query(statement, ids=ids):
            if url and COMMON_IMAGES not in url:
                full = full_size_avatar(url)
                recorded[profile_image_path(User(id=user_id), full)] = Recorded(full, None)
        return recorded

    def cover(self, novel: Novel) -> dict[str, Recorded]:
        rows = self.query("SELECT cover_url FROM novels WHERE id = :id", id=novel.id)
        if not rows or not rows[0].cover_url:
            return {}
        url = rows[0].cover_url
        return {cover_path(novel, url): Recorded(url, None)}

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
