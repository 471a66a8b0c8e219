"""Media pipeline: originals, covers and profile images, verified and stored atomically.

- ``pipeline``: :class:`PixivFilesPipeline`, built on Scrapy's FilesPipeline;
- ``paths``: where each kind of file goes, named from IDs;
- ``files``: verifying a download and the facts recorded about it;
- ``storage``: atomic local writes;
- ``archived``: what the archive already holds, so nothing is downloaded twice.
"""

from pixivcrawl.pipelines.media.archived import ArchivedFiles, Recorded, Target
from pixivcrawl.pipelines.media.files import (
    COMMON_IMAGES,
    Facts,
    InvalidFile,
    file_info,
    image_facts,
    same_image,
    stored,
    stored_from_result,
)
from pixivcrawl.pipelines.media.paths import cover_path, full_size_avatar, page_path, profile_image_path, suffix_of
from pixivcrawl.pipelines.media.pipeline import PixivFilesPipeline
from pixivcrawl.pipelines.media.storage import AtomicFSFilesStore, write_atomically

__all__ = [
    "COMMON_IMAGES",
    "ArchivedFiles",
    "AtomicFSFilesStore",
    "Facts",
    "InvalidFile",
    "PixivFilesPipeline",
    "Recorded",
    "Target",
    "cover_path",
    "file_info",
    "full_size_avatar",
    "image_facts",
    "page_path",
    "profile_image_path",
    "same_image",
    "stored",
    "stored_from_result",
    "suffix_of",
    "write_atomically",
]
