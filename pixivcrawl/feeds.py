"""Feeds (``-O out.jsonl``, ``-O out.csv``): every item with its kind, nested values as JSON.

Items reach feeds as validated models (``pixivcrawl.models``). The exporters here
write each as ``{"item_kind": "illust", ...fields}`` (the model's JSON form), and
:class:`FeedsAddon` turns a CSV feed into one CSV file per kind of item
(``out.csv`` becomes ``out.illust.csv``, ``out.user.csv`` ...), since kinds have
different columns; in CSV cells, lists and objects are JSON.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Self

from scrapy.exporters import CsvItemExporter, JsonItemExporter, JsonLinesItemExporter

from pixivcrawl.models import ItemModel, PixivModel

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

#: The field every exported item starts with (``kind`` itself is a column of some tables).
KIND_FIELD = "item_kind"


def kind_of(model: type[PixivModel] | PixivModel) -> str:
    """``RankingEntry`` -> ``ranking_entry``."""
    cls = model if isinstance(model, type) else type(model)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


def item_classes() -> list[type[PixivModel]]:
    """Every model class, each a kind of item a feed may carry (not the base :class:`ItemModel`)."""
    found: list[type[PixivModel]] = []
    todo = list(PixivModel.__subclasses__())
    while todo:
        cls = todo.pop(0)
        if cls is not ItemModel:
            found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def exported(item: Any) -> Any:
    """The item as a feed row: its kind first, then its fields in their JSON form."""
    if isinstance(item, PixivModel):
        return {KIND_FIELD: kind_of(item), **item.model_dump(mode="json")}
    return item


class JsonLinesExporter(JsonLinesItemExporter):
    def export_item(self, item: Any) -> None:
        super().export_item(exported(item))


class JsonExporter(JsonItemExporter):
    def export_item(self, item: Any) -> None:
        super().export_item(exported(item))


class CsvExporter(CsvItemExporter):
    """CSV of one kind of item (see :class:`FeedsAddon`); lists, objects and booleans in a cell are JSON."""

    def export_item(self, item: Any) -> None:
        row = exported(item)
        if isinstance(row, dict):
            row = {k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list | bool) else v
                   for k, v in row.items()}
        super().export_item(row)


def per_kind_uri(uri: str, kind: str) -> str:
    """``out.csv`` -> ``out.illust.csv`` (the kind goes before the last suffix)."""
    path = PurePosixPath(uri)
    if path.suffix:
        return uri[: -len(path.suffix)] + f".{kind}{path.suffix}"
    return f"{uri}.{kind}"


class FeedsAddon:
    """Splits every CSV feed into one file per kind of item (FEEDS ``item_classes``, no empty files)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls()

    def update_settings(self, settings: BaseSettings) -> None:
        feeds = settings.getdict("FEEDS")
        if not any(str(options.get("format")) == "csv" for options in feeds.values()):
            return
        split: dict[str, Any] = {}
        for uri, options in feeds.items():
            if str(options.get("format")) != "csv" or options.get("item_classes"):
                split[uri] = options
                continue
            for cls in item_classes():
                split[per_kind_uri(str(uri), kind_of(cls))] = {**options, "item_classes": [cls], "store_empty": False}
            logger.info("CSV feed %s: one file per kind of item, %s", uri, per_kind_uri(str(uri), "<kind>"))
        settings.set("FEEDS", split, priority=settings.getpriority("FEEDS") or "project")
