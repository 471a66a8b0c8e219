"""Request counters served at GET /__stats (reset with POST /__stats/reset).

Counter names (tests rely on them):
- ``requests_total``: API-listener requests (admin routes /__stats and /__clock excluded)
- ``by_route``: {path template: count}, e.g. ``/v1/illust/ranking``; unknown paths count as ``<unknown>``
- ``by_status``: {"200": count, ...} for API-listener answers (faults included)
- ``token_refreshes``: successful refresh_token grants; ``code_exchanges``: successful PKCE code grants
- ``token_errors``: refused /auth/token requests; ``auth_failures``: API calls refused for a missing,
  unknown or expired access token (``fault_token_expiry`` faults are counted under ``faults`` only)
- ``image_requests``, ``image_by_status``, ``image_403`` (bad/missing Referer), ``image_404``,
  ``placeholder_fetches`` (``/common/images/...``), ``image_auth_headers`` (image requests that carried
  an Authorization header), ``image_bytes`` (body bytes sent), ``image_in_flight_max`` (the most image
  requests being answered at once, latency included: a client's concurrency)
- ``faults``: {kind: count} with kinds ``5xx``, ``reset``, ``truncate``, ``malformed``, ``rate_limit``,
  ``429``, ``token_expiry``
- ``rate_limited``: answers of the ``rate_limit`` knob (not the ``fault_rate_limit`` ones)
- ``offset_cap``: 400 answers for offset > 5000
"""
from __future__ import annotations

from collections import Counter
from typing import Any

SCALARS = ("requests_total", "token_refreshes", "code_exchanges", "token_errors", "auth_failures", "image_requests",
           "image_403", "image_404", "placeholder_fetches", "image_auth_headers", "image_bytes", "rate_limited",
           "offset_cap", "image_in_flight_max")
MAPS = ("by_route", "by_status", "image_by_status", "faults")


class Stats:
    def __init__(self) -> None:
        self.image_in_flight = 0  # not reset: requests being answered still end
        self.reset()

    def image_started(self) -> None:
        self.image_in_flight += 1
        self.n["image_in_flight_max"] = max(self.n["image_in_flight_max"], self.image_in_flight)

    def image_finished(self) -> None:
        self.image_in_flight -= 1

    def reset(self) -> None:
        self.n: Counter[str] = Counter(dict.fromkeys(SCALARS, 0))
        self.maps: dict[str, Counter[str]] = {k: Counter() for k in MAPS}

    def inc(self, name: str, by: int = 1) -> None:
        self.n[name] += by

    def inc_map(self, name: str, key: str, by: int = 1) -> None:
        self.maps[name][key] += by

    def snapshot(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.n)
        out.update({k: dict(v) for k, v in self.maps.items()})
        return out
