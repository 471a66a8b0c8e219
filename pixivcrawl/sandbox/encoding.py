"""JSON encoding of API answers: compact text, and pre-encoded fragments spliced into pages."""
from __future__ import annotations

import json
from typing import Any


class Raw(bytes):
    """Already-encoded JSON, spliced into a response as is."""


def compact(data: Any) -> str:
    """JSON text the way Pixiv writes field errors inside `message`."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def encode(data: Any) -> bytes:
    """dumps() that splices Raw fragments found as top-level values or items of top-level lists."""
    if not isinstance(data, dict) or not any(isinstance(v, (Raw, list)) for v in data.values()):
        return dumps(data)
    parts = []
    for k, v in data.items():
        if isinstance(v, Raw):
            enc = bytes(v)
        elif isinstance(v, list) and v and any(isinstance(x, Raw) for x in v):
            enc = b"[" + b",".join(x if isinstance(x, Raw) else dumps(x) for x in v) + b"]"
        else:
            enc = dumps(v)
        parts.append(dumps(k) + b":" + enc)
    return b"{" + b",".join(parts) + b"}"
