"""Deterministic hashing: every generated value derives from (seed, kind, id...)."""
from __future__ import annotations

import random
import zlib

M64 = (1 << 64) - 1


def mix(*parts: int) -> int:
    """splitmix64-style hash of integers; fast enough to call per work in list walks."""
    h = 0x9E3779B97F4A7C15
    for p in parts:
        h = ((h ^ (p & M64)) * 0xBF58476D1CE4E5B9) & M64
        h ^= h >> 31
        h = (h * 0x94D049BB133111EB) & M64
        h ^= h >> 29
    return h


def sid(text: str) -> int:
    """Stable integer for a string (Python's hash() is salted per process)."""
    return zlib.crc32(text.encode())


def rng(*parts: int) -> random.Random:
    return random.Random(mix(*parts))


def hexhash(*parts: int, n: int = 32) -> str:
    return f"{mix(*parts, 1):016x}{mix(*parts, 2):016x}"[:n]


# kinds (arbitrary distinct constants)
K_ILLUST, K_NOVEL, K_USER, K_DELETED, K_HIDDEN, K_TYPE, K_PAGES, K_POP = 11, 12, 13, 14, 15, 16, 17, 18
K_BOOKMARK, K_FOLLOW, K_COMMENT, K_SERIES, K_RANK, K_AUTHOR, K_IMAGE, K_MISC = 21, 22, 23, 24, 25, 26, 27, 28
