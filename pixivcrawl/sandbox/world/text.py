"""Novel text in Pixiv markup and the images uploaded into it (the webview page object is in objects.py)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from .core import Work, WorldCore
from .rand import K_NOVEL, hexhash, rng
from .vocab import NOVEL_SENTENCES, RUBY


class NovelText:
    """Novel text in Pixiv markup and the images uploaded into it."""

    def __init__(self, core: WorldCore) -> None:
        self.core = core
        self._text = lru_cache(maxsize=512)(self._text_impl)

    def novel_text(self, w: Work) -> str:
        return self._text(w.idx)

    def _text_impl(self, idx: int) -> str:
        w = self.core.novel(idx)
        r = rng(self.core.seed, K_NOVEL, 9, idx)
        pages: list[str] = []
        for p in range(w.pages):
            lines = [f"[chapter:第{p + 1}章 {r.choice(['はじまり', '雨の日', '約束 {仮}', '終わり'])}]", ""]
            for _ in range(r.randint(8, 30)):
                k = r.random()
                if k > 0.97 and idx % 2 == 0:  # images the author uploaded into the text
                    lines.append(f"[uploadedimage:{self.novel_image_id(w, len(pages))}]")
                    lines.append("")
                    continue
                if k < 0.1:
                    kanji, kana = r.choice(RUBY)
                    lines.append(f"その[[rb:{kanji}>{kana}]]は、まだ覚えている。")
                elif k < 0.13:
                    lines.append("[[jumpuri:サンドボックス > https://www.pixiv.net/]]")
                elif k < 0.15:
                    lines.append(f"[pixivimage:{120_000_000 + (idx * 31) % max(1, self.core.n_illusts)}-1]")
                else:
                    lines.append("".join(r.choice(NOVEL_SENTENCES) for _ in range(r.randint(1, 4))))
                lines.append("")
            pages.append("\n".join(lines))
        return "\n[newpage]\n".join(pages)

    #: Uploaded images of one novel at most: one per page, ids novel id * 100 + page.
    MAX_NOVEL_IMAGES = 100

    def novel_image_id(self, w: Work, page: int) -> int:
        return w.id * self.MAX_NOVEL_IMAGES + page % self.MAX_NOVEL_IMAGES

    def novel_image_url(self, w: Work, image_id: int, size: str | None) -> str:
        """An uploaded image's URL: ``tei<id>_<hash>`` under novel-cover-original (or -master in ``size``)."""
        h = hexhash(self.core.seed, K_NOVEL, 5, image_id)
        if size is None:
            return f"{self.core.image_base}/novel-cover-original/img/{self.core.date_path(w.ts)}/tei{image_id}_{h}.jpg"
        path = f"novel-cover-master/img/{self.core.date_path(w.ts)}/tei{image_id}_{h}_master1200.jpg"
        return f"{self.core.image_base}/c/{size}/{path}"

    def novel_images(self, w: Work, text: str) -> dict[str, Any]:
        """The webview ``images`` map of the ``[uploadedimage:N]`` in ``text`` (real shape: sl and urls as strings)."""
        images: dict[str, Any] = {}
        for page in range(w.pages):
            image_id = self.novel_image_id(w, page)
            if f"[uploadedimage:{image_id}]" in text:
                sizes = {"240mw": "240x480_80", "480mw": "480x960", "1200x1200": "1200x1200_80", "128x128": "128x128"}
                urls = {k: self.novel_image_url(w, image_id, v) for k, v in sizes.items()}
                images[str(image_id)] = {"novelImageId": str(image_id), "sl": "2",
                                         "urls": {**urls, "original": self.novel_image_url(w, image_id, None)}}
        return images
