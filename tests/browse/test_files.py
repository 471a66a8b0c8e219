"""FILES_STORE as the browser sees it: nothing outside it, thumbnails made once and cached beside the files."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from pixivcrawl.browse.files import THUMB_SIZE, THUMBS_DIR, FileStore


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    files = tmp_path / "files"
    (files / "7").mkdir(parents=True)
    Image.new("RGB", (1200, 800), "navy").save(files / "7" / "1_p0.jpg")
    frames = [Image.new("RGB", (900, 900), colour) for colour in ("red", "green", "blue")]
    frames[0].save(files / "7" / "2_ugoira.webp", save_all=True, append_images=frames[1:], duration=[40, 80, 120], loop=0)
    (files / "7" / "2_ugoira1920x1080.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    (tmp_path / "secret.jpg").write_bytes((files / "7" / "1_p0.jpg").read_bytes())
    (files / "7" / "link.jpg").symlink_to(tmp_path / "secret.jpg")
    (files / "out").symlink_to(tmp_path, target_is_directory=True)
    (files / "7" / "inside.jpg").symlink_to(files / "7" / "1_p0.jpg")
    return FileStore(files)


@pytest.mark.parametrize("path", [
    "../secret.jpg", "7/../../secret.jpg", "/etc/passwd", "//etc/passwd", "7/link.jpg", "out/secret.jpg",
    "7\\..\\..\\secret.jpg", "7/1_p0.jpg\x00.png", ".thumbs/7/1_p0.jpg.360.webp", "7", "", "7/nothing.jpg",
])
def test_nothing_outside_the_store_or_hidden_resolves(store: FileStore, path: str) -> None:
    assert store.resolve(path) is None
    assert store.thumbnail(path) is None


def test_files_inside_resolve_even_through_a_symlink_that_stays_inside(store: FileStore) -> None:
    assert store.resolve("7/1_p0.jpg") == store.root / "7" / "1_p0.jpg"
    assert store.resolve("7/inside.jpg") == store.root / "7" / "1_p0.jpg"


def test_thumbnail_is_made_once_and_cached_beside_the_files(store: FileStore) -> None:
    thumb = store.thumbnail("7/1_p0.jpg")
    assert thumb is not None and thumb.is_relative_to(store.root / THUMBS_DIR)
    with Image.open(thumb) as image:
        assert image.format == "WEBP" and max(image.size) == THUMB_SIZE and image.size == (THUMB_SIZE, 240)
    made = thumb.stat().st_mtime_ns
    assert store.thumbnail("7/1_p0.jpg") == thumb and thumb.stat().st_mtime_ns == made


def test_animation_thumbnail_stays_animated_with_its_delays(store: FileStore) -> None:
    thumb = store.thumbnail("7/2_ugoira.webp")
    assert thumb is not None
    with Image.open(thumb) as image:
        assert image.n_frames == 3 and image.size == (THUMB_SIZE, THUMB_SIZE)
        delays = []
        for index in range(image.n_frames):
            image.seek(index)
            image.load()
            delays.append(image.info["duration"])
    assert delays == [40, 80, 120]


def test_a_zip_gets_no_thumbnail(store: FileStore) -> None:
    assert store.resolve("7/2_ugoira1920x1080.zip") is not None
    assert store.thumbnail("7/2_ugoira1920x1080.zip") is None
