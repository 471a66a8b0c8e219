"""Image host: Pillow-made PNG/JPEG files and ugoira zips at i.pximg.net paths, behind a Referer check."""
from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from functools import lru_cache

from PIL import Image, ImageDraw

from .config import SandboxConfig
from .world import World
from .world.rand import K_IMAGE, hexhash, mix, rng

ALLOWED_REFERERS = ("https://app-api.pixiv.net/", "https://www.pixiv.net/")
TS = r"(\d{4}/\d\d/\d\d/\d\d/\d\d/\d\d)"
MASTER = re.compile(rf"^/(?:c/[^/]+/)?img-master/img/{TS}/(\d+)(?:_p(\d+))?_(?:master|square)1200\.jpg$")
ORIGINAL = re.compile(rf"^/img-original/img/{TS}/(\d+)_(p|ugoira)(\d+)\.(png|jpg|gif)$")
UGOIRA_ZIP = re.compile(rf"^/img-zip-ugoira/img/{TS}/(\d+)_ugoira(600x600|1920x1080)\.zip$")
AVATAR = re.compile(rf"^/(?:c/[^/]+/)?user-profile/img/{TS}/(\d+)_([0-9a-f]+)(?:_\d+)?\.jpg$")
BACKGROUND = re.compile(rf"^/(?:c/[^/]+/)?background/img/{TS}/(\d+)_([0-9a-f]+)(?:_master1200)?\.jpg$")
COVER = re.compile(rf"^/(?:c/[^/]+/)?novel-cover-(?:master|original)/img/{TS}/ci(\d+)_([0-9a-f]+)(?:_master1200)?\.(jpg|png)$")
NOVEL_IMAGE = re.compile(rf"^/(?:c/[^/]+/)?novel-cover-(?:master|original)/img/{TS}/tei(\d+)_([0-9a-f]+)(?:_master1200)?\.jpg$")
PLACEHOLDER = re.compile(r"^/common/images/[\w/.-]+\.(png|jpg)$")
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "zip": "application/zip"}


class ImageMaker:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.image = lru_cache(maxsize=2048)(self._image)
        self.zip = lru_cache(maxsize=64)(self._zip)

    def _picture(self, key: tuple[int, ...], size: tuple[int, int]) -> Image.Image:
        r = rng(self.config.seed, K_IMAGE, *key)
        img = Image.new("RGB", size, tuple(r.randrange(256) for _ in range(3)))
        d = ImageDraw.Draw(img)
        w, h = size
        for _ in range(4):
            x0, y0 = r.randrange(w), r.randrange(h)
            d.rectangle([x0, y0, x0 + r.randrange(1, w), y0 + r.randrange(1, h)], fill=tuple(r.randrange(256) for _ in range(3)))
        return img

    def _image(self, key: tuple[int, ...], fmt: str, size: tuple[int, int] | None = None) -> bytes:
        img = self._picture(key, size or (self.config.image_width, self.config.image_height))
        buf = io.BytesIO()
        img.save(buf, "PNG" if fmt == "png" else "GIF" if fmt == "gif" else "JPEG", quality=85)
        return _pad(buf.getvalue(), fmt, self.config.image_bytes_min, mix(self.config.seed, K_IMAGE, *key))

    def _zip(self, illust_id: int, big: bool) -> bytes:
        # frames are small like every sandbox image (the zip name keeps Pixiv's 600x600 / 1920x1080)
        w, h = self.config.image_width, self.config.image_height
        size = (w * 2, h * 2) if big else (w, h)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            for i in range(ugoira_frame_count(illust_id)):
                # A fixed timestamp: the same work must give the same zip bytes (and sha256) every time.
                entry = zipfile.ZipInfo(f"{i:06d}.jpg", date_time=(2026, 1, 1, 0, 0, 0))
                z.writestr(entry, self._image((illust_id, 1000 + i), "jpg", size))
        return buf.getvalue()


def ugoira_frame_count(illust_id: int) -> int:
    return 4 + illust_id % 9


def ugoira_delays(seed: int, illust_id: int) -> list[int]:
    return [(40, 60, 80, 100, 150, 200)[mix(seed, K_IMAGE, 7, illust_id, i) % 6] for i in range(ugoira_frame_count(illust_id))]


def _pad(data: bytes, fmt: str, minimum: int, salt: int) -> bytes:
    """Grow a file to `minimum` bytes with incompressible ancillary data; the picture stays valid."""
    missing = minimum - len(data)
    if missing <= 0:
        return data
    noise = rng(salt).randbytes(missing)
    if fmt == "png":  # a private ancillary chunk before IEND
        chunk = b"skIP" + noise
        blob = struct.pack(">I", len(noise)) + chunk + struct.pack(">I", zlib.crc32(chunk))
        return data[:-12] + blob + data[-12:]
    if fmt == "jpg":  # COM segments after SOI
        segs = []
        for i in range(0, len(noise), 65000):
            part = noise[i:i + 65000]
            segs.append(b"\xff\xfe" + struct.pack(">H", len(part) + 2) + part)
        return data[:2] + b"".join(segs) + data[2:]
    return data


def resolve(world: World, path: str) -> tuple[str, tuple, str] | None:  # type: ignore[type-arg]
    """Map an image path to (kind, cache key, format) if the world serves it, else None."""
    m = ORIGINAL.match(path) or MASTER.match(path)
    if m:
        ts, wid = m.group(1), int(m.group(2))
        w = world.illust_by_id(wid)
        if w is None or w.deleted or w.hidden or world.date_path(w.file_ts) != ts:
            return None
        if m.re is ORIGINAL:
            kind, page, ext = m.group(3), int(m.group(4)), m.group(5)
            if kind == "ugoira":
                ok = w.type == "ugoira" and page < ugoira_frame_count(wid) and ext == "jpg"
                return ("work", (wid, 1000 + page), "jpg") if ok else None
            ok = w.type != "ugoira" and page < w.pages and ext == w.ext
            return ("work", (wid, page), ext) if ok else None
        page_s = m.group(3)
        if (page_s is None) != (w.type == "ugoira") or (page_s is not None and int(page_s) >= w.pages):
            return None
        return "work", (wid, int(page_s or 0), 1), "jpg"
    m = UGOIRA_ZIP.match(path)
    if m:
        w = world.illust_by_id(int(m.group(2)))
        ok = w is not None and w.type == "ugoira" and not (w.deleted or w.hidden) and world.date_path(w.file_ts) == m.group(1)
        return ("zip", (w.id, m.group(3) == "1920x1080"), "zip") if ok and w else None
    m = AVATAR.match(path) or BACKGROUND.match(path)
    if m:
        uid = int(m.group(2))
        salt = 2 if m.re is AVATAR else 7
        if not world.user_exists(uid) or m.group(3) != hexhash(world.seed, 13, *((uid,) if salt == 2 else (7, uid))):
            return None
        return "user", (0, uid, salt), "jpg"
    m = COVER.match(path)
    if m:
        w = world.novel_by_id(int(m.group(2)))
        ok = w is not None and not (w.deleted or w.hidden) and world.date_path(w.ts) == m.group(1)
        return ("cover", (1, w.id), m.group(4)) if ok and w else None
    m = NOVEL_IMAGE.match(path)
    if m:
        image_id = int(m.group(2))
        w = world.novel_by_id(image_id // world.MAX_NOVEL_IMAGES)
        ok = (w is not None and not (w.deleted or w.hidden) and world.date_path(w.ts) == m.group(1)
              and world.novel_image_url(w, image_id, None).endswith(f"_{m.group(3)}.jpg"))
        return ("novel_image", (3, image_id), "jpg") if ok and w else None
    m = PLACEHOLDER.match(path)
    if m:
        return "placeholder", (2, zlib.crc32(path.encode())), m.group(1)
    return None
