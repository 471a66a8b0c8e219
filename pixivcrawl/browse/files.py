"""The archive's files as the browser sees them: paths confined to FILES_STORE, cached thumbnails."""

from __future__ import annotations

import io
import mimetypes
from pathlib import Path, PurePosixPath

from PIL import Image, ImageSequence

from pixivcrawl.pipelines.media.storage import write_atomically

#: Where thumbnails are cached, inside FILES_STORE (never in the database).
THUMBS_DIR = ".thumbs"
#: The longest side of a thumbnail, in pixels.
THUMB_SIZE = 360
#: Files the browser shows as pictures; anything else (ugoira zips) is only linked.
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp"}

mimetypes.add_type("image/webp", ".webp")


class FileStore:
    """Read-only access to a local FILES_STORE: nothing outside it is ever opened."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def resolve(self, relative: str) -> Path | None:
        """The regular file ``relative`` names inside the store, or None.

        Refuses absolute paths, ``..``, backslashes, NUL, hidden parts (``.thumbs``, ``.incoming``)
        and anything a symlink leads out of the store.
        """
        if not relative or "\x00" in relative or "\\" in relative:
            return None
        parts = PurePosixPath(relative).parts
        if relative.startswith("/") or any(p in {"..", "."} or p.startswith(".") for p in parts):
            return None
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path

    def thumbnail(self, relative: str) -> Path | None:
        """The cached thumbnail of a stored picture, made with Pillow on first use; None if not a picture."""
        source = self.resolve(relative)
        if source is None or source.suffix.lower() not in IMAGE_SUFFIXES:
            return None
        target = self.root / THUMBS_DIR / f"{relative}.{THUMB_SIZE}.webp"
        if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
            return target
        try:
            data = make_thumbnail(source)
        except (OSError, ValueError, Image.DecompressionBombError):
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, data)
        return target


def make_thumbnail(source: Path, size: int = THUMB_SIZE) -> bytes:
    """A WebP at most ``size`` pixels a side; an animation stays an animation, with its delays."""
    out = io.BytesIO()
    with Image.open(source) as image:
        if getattr(image, "is_animated", False):
            frames, durations = [], []
            for frame in ImageSequence.Iterator(image):
                copy = frame.convert("RGBA")
                copy.thumbnail((size, size))
                frames.append(copy)
                durations.append(frame.info.get("duration", 100))
            frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=durations,
                           loop=0, quality=80, method=0)
        else:
            image.draft("RGB", (size, size))  # JPEG decodes at a reduced scale: much faster
            still = image.convert("RGBA" if image.mode in {"RGBA", "LA", "P"} else "RGB")
            still.thumbnail((size, size))
            still.save(out, "WEBP", quality=80, method=0)
    return out.getvalue()


def media_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"
