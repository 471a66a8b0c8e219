"""Parsing sample payloads (shaped like captured App API responses) into models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from pixivcrawl.items import ApiObject
from pixivcrawl.models import WorkStatus
from pixivcrawl.parsing import parse_illust, placeholder_name
from pixivcrawl.pipelines.validate import ValidationPipeline

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def test_multi_page_illust_has_every_original_and_its_tags() -> None:
    illust = parse_illust(sample("illust_multi"))
    assert illust.status is WorkStatus.AVAILABLE
    assert [p.original_url.rsplit("/", 1)[1] for p in illust.pages] == ["125551234_p0.png", "125551234_p1.png"]
    assert [(t.name, t.translated_name) for t in illust.tags] == [("海", "sea"), ("オリジナル", None)]
    assert illust.user.id == 2131660
    assert illust.ai_type == 1
    assert illust.create_date.utcoffset().total_seconds() == 9 * 3600


def test_single_page_illust_uses_meta_single_page() -> None:
    data = sample("illust_multi")
    data["meta_pages"] = []
    data["meta_single_page"] = {"original_image_url": "https://i.pximg.net/img-original/img/x/125551234_p0.jpg"}
    illust = parse_illust(data)
    assert [p.original_url for p in illust.pages] == ["https://i.pximg.net/img-original/img/x/125551234_p0.jpg"]


def test_limited_illust_is_hidden_with_its_placeholder_and_no_pages() -> None:
    illust = parse_illust(sample("illust_limited"))
    assert illust.status is WorkStatus.HIDDEN
    assert illust.restriction == "limit_sanity_level"
    assert illust.pages == []


def test_deleted_illust_in_a_bookmark_list() -> None:
    data = sample("illust_limited")
    data["user"]["id"] = 0
    data["image_urls"] = {"medium": "https://s.pximg.net/common/images/limit_unknown_360.png"}
    data["meta_single_page"] = {"original_image_url": "https://s.pximg.net/common/images/limit_unknown_360.png"}
    assert parse_illust(data).status is WorkStatus.DELETED


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://s.pximg.net/common/images/limit_mypixiv_360.png", "limit_mypixiv"),
        ("http://127.0.0.1:9/common/images/limit_r18_360.png", "limit_r18"),
        ("https://i.pximg.net/img-original/img/2025/01/01/00/00/00/1_p0.png", None),
        (None, None),
    ],
)
def test_placeholders_are_recognised_by_path_whatever_the_host(url, name) -> None:
    assert placeholder_name(url) == name


def test_an_illust_without_id_fails_validation() -> None:
    data = sample("illust_multi")
    data["id"] = "not-a-number"
    with pytest.raises(ValidationError):
        parse_illust(data)


class FakeStats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str) -> None:
        self.values[key] = self.values.get(key, 0) + 1


def test_validation_pipeline_drops_and_counts_invalid_objects() -> None:
    from scrapy.exceptions import DropItem

    stats = FakeStats()
    pipeline = ValidationPipeline(stats)  # type: ignore[arg-type]
    good = pipeline.process_item(ApiObject("illust", sample("illust_multi")))
    assert good.id == 125551234
    bad = sample("illust_multi")
    bad["user"] = {"name": "no id"}
    with pytest.raises(DropItem, match="invalid illust 125551234"):
        pipeline.process_item(ApiObject("illust", bad))
    assert stats.values == {
        "pixivcrawl/validation/valid/illust": 1,
        "pixivcrawl/validation/dropped/illust": 1,
        "pixivcrawl/rejected_items": 1,
        "pixivcrawl/rejected_items/validation": 1,
    }


def test_novel_images_of_the_webview_object() -> None:
    from pixivcrawl.parsing import novel_images

    urls = {"240mw": "https://i.pximg.net/c/240x480_80/x.jpg", "original": "https://i.pximg.net/novel-cover-original/x.jpg"}
    novel = {
        "text": "a [uploadedimage:77] b [pixivimage:123-2] c [pixivimage:123-2] [pixivimage:9]",
        "images": {"77": {"novelImageId": "77", "sl": "2", "urls": urls}, "../x": {"novelImageId": "../x", "urls": urls},
                   "5": "not an object"},
        "illusts": {"123-2": {"illust": {"images": {"original": "https://i.pximg.net/img-original/123_p1.png"}}, "visible": True},
                    "9": {"illust": {"images": {"original": "https://i.pximg.net/img-original/9_p0.png"}}, "visible": False}},
    }
    images = [(i.kind, i.key, i.illust_id, i.page, i.sanity_level, i.url) for i in novel_images(novel)]
    assert images == [
        ("uploaded", "77", None, None, 2, urls["original"]),
        ("pixiv", "123-2", 123, 2, None, "https://i.pximg.net/img-original/123_p1.png"),
        ("pixiv", "9", 9, None, None, None),  # hidden from the reader: no file
    ]
    assert novel_images({"text": "plain", "images": [], "illusts": []}) == []


def test_a_field_pixiv_names_like_the_model_is_read_but_never_one_pixivcrawl_fills_itself() -> None:
    data = sample("illust_multi")
    data["restriction_attributes"] = ["restricted_mode"]  # read by name: no parser code names it
    data["pages"] = []
    data["status"] = "deleted"
    data["ugoira"] = {"zip_url": "https://i.pximg.net/evil.zip", "frames": []}
    data["user"]["profile_image_file"] = {"url": "x", "local_path": "../../etc/passwd", "size": 1, "sha256": "0" * 64}
    illust = parse_illust(data)
    assert illust.restriction_attributes == ["restricted_mode"]
    assert len(illust.pages) == 2
    assert illust.status is WorkStatus.AVAILABLE
    assert illust.ugoira is None
    assert illust.user.profile_image_file is None
