"""Repeatable fault injection and the rate limiter."""
from __future__ import annotations

import time
from collections import OrderedDict

from .config import SandboxConfig
from .world.rand import mix, sid

KINDS = ("reset", "5xx", "429", "rate_limit", "token_expiry", "malformed", "truncate")
API_ONLY = {"rate_limit", "token_expiry", "malformed"}
RATE_LIMIT_BODY = {"error": {"user_message": "", "message": "Rate Limit", "reason": "", "user_message_details": {}}}
_MAX_KEYS = 100_000


class Faults:
    """Decides faults from (fault_seed, method+path+query, attempt number of that key).

    The same test run therefore meets the same faults, and a key is never faulted more than
    ``fault_max_consecutive`` times in a row, so a client that retries always gets through.
    """

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.attempts: OrderedDict[str, int] = OrderedDict()
        self.streak: dict[str, int] = {}
        self.prob = {"reset": config.fault_reset, "5xx": config.fault_5xx, "429": config.fault_429,
                     "rate_limit": config.fault_rate_limit, "token_expiry": config.fault_token_expiry,
                     "malformed": config.fault_malformed, "truncate": config.fault_truncate}
        self.enabled = any(p > 0 for p in self.prob.values())

    def decide(self, listener: str, key: str, allowed: frozenset[str] | None = None) -> str | None:
        """listener is 'api' or 'image'; allowed restricts the kinds that make sense for the route."""
        if not self.enabled or self.config.fault_scope not in (listener, "all"):
            return None
        attempt = self.attempts.pop(key, 0)
        self.attempts[key] = attempt + 1
        if len(self.attempts) > _MAX_KEYS:
            old, _ = self.attempts.popitem(last=False)
            self.streak.pop(old, None)
        if self.streak.get(key, 0) >= self.config.fault_max_consecutive:
            self.streak[key] = 0
            return None
        h = sid(key)
        for kind in KINDS:
            p = self.prob[kind]
            if p <= 0 or (listener == "image" and kind in API_ONLY) or (allowed is not None and kind not in allowed):
                continue
            if mix(self.config.fault_seed, h, attempt, sid(kind)) / 2.0**64 < p:
                self.streak[key] = self.streak.get(key, 0) + 1
                return kind
        self.streak[key] = 0
        return None


class RateLimiter:
    """At most ``rate_limit`` API requests per fixed window; refused requests do not count."""

    def __init__(self, config: SandboxConfig) -> None:
        self.limit, self.window = config.rate_limit, config.rate_limit_window
        self.start, self.used = 0.0, 0

    def allow(self) -> bool:
        if self.limit <= 0:
            return True
        now = time.monotonic()
        if now - self.start >= self.window:
            self.start, self.used = now, 0
        if self.used >= self.limit:
            return False
        self.used += 1
        return True

    def retry_after(self) -> int:
        return max(1, int(self.window - (time.monotonic() - self.start) + 0.999))
