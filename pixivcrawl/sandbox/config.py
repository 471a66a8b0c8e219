"""Sandbox knobs: one dataclass that is also the CLI flag list and the Scrapy settings list."""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from typing import Any

SETTING_PREFIX = "PIXIV_SANDBOX_"


def _knob(default: Any, help: str, choices: tuple[str, ...] | None = None) -> Any:
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass
class SandboxConfig:
    seed: int = _knob(1, "world seed; same seed, same data")
    port: int = _knob(0, "API + OAuth listener port on 127.0.0.1 (0 = random free port)")
    image_port: int = _knob(0, "image host listener port on 127.0.0.1 (0 = random free port)")
    page_size: int = _knob(30, "items per list page (Pixiv: 30)")
    ranking_size: int = _knob(100, "works per ranking (mode, date)")
    num_users: int = _knob(10_000, "users in the world (ids 1..N)")
    num_illusts: int = _knob(1_000_000, "illusts in the world (ids 120000000..)")
    num_novels: int = _knob(200_000, "novels in the world (ids 20000000..)")
    epoch: str = _knob("2026-11-01T00:00:00+09:00", "world 'now' (ISO 8601); newest work is just before it")
    unpublished: int = _knob(0, "hold back the works of the last N seconds before the epoch from user works, feeds "
                                "and new works until the clock (POST /__clock) passes them: new works every night")
    token_lifetime: int = _knob(3600, "access token lifetime, seconds (expires_in)")
    code_lifetime: int = _knob(30, "PKCE authorization code lifetime, seconds")
    refresh_token: str = _knob("sandbox-refresh-token", "refresh token the OAuth server accepts")
    login_user_id: int = _knob(1, "user id the refresh token / PKCE login belongs to")
    latency_api: float = _knob(0.0, "added latency per API request, ms")
    latency_image: float = _knob(0.0, "added latency per image request, ms")
    image_width: int = _knob(64, "width of generated images, px")
    image_height: int = _knob(64, "height of generated images, px")
    image_bytes_min: int = _knob(0, "pad generated images with ancillary noise up to this many bytes")
    rate_limit: int = _knob(0, "max API requests per rate_limit_window (0 = off)")
    rate_limit_window: float = _knob(60.0, "rate limit window, seconds")
    rate_limit_style: str = _knob("403", "rate limit answer: 403 'Rate Limit' body or 429 + Retry-After", ("403", "429"))
    retry_after: int = _knob(1, "Retry-After seconds on 429 answers")
    fault_5xx: float = _knob(0.0, "probability of a 5xx answer")
    fault_reset: float = _knob(0.0, "probability of closing the connection without an answer")
    fault_truncate: float = _knob(0.0, "probability of a body cut short of its Content-Length")
    fault_malformed: float = _knob(0.0, "probability of a 200 with broken JSON (API only)")
    fault_rate_limit: float = _knob(0.0, "probability of a 403 'Rate Limit' body (API only)")
    fault_429: float = _knob(0.0, "probability of a 429 with Retry-After")
    fault_token_expiry: float = _knob(0.0, "probability of an invalid_grant OAuth error on an API call")
    fault_scope: str = _knob("all", "where faults apply", ("api", "image", "all"))
    fault_seed: int = _knob(0, "seed of the fault decisions")
    fault_max_consecutive: int = _knob(3, "never fault one request key more often than this in a row")
    tls: bool = _knob(False, "serve HTTPS with a CA generated at start (its ca.pem is PIXIV_CA_BUNDLE for crawls)")
    tls_dir: str = _knob("", "where --tls writes ca.pem, server.pem and server.key (default: a new temporary directory)")

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> SandboxConfig:
        """Read PIXIV_SANDBOX_<FIELD> from Scrapy settings (or any mapping); absent → default."""
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = settings.get(SETTING_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _convert(f, raw)
        values.update(overrides)
        return cls(**values)

    @classmethod
    def from_args(cls, ns: argparse.Namespace, **overrides: Any) -> SandboxConfig:
        values = {f.name: getattr(ns, f.name) for f in dataclasses.fields(cls) if getattr(ns, f.name, None) is not None}
        values.update(overrides)
        return cls(**values)

    def replace(self, **changes: Any) -> SandboxConfig:
        return dataclasses.replace(self, **changes)


def _convert(f: dataclasses.Field[Any], raw: Any) -> Any:
    kind = type(f.default)
    if kind is bool:
        return str(raw).lower() in ("1", "true", "yes", "on")
    return kind(raw)


def setting_names() -> dict[str, Any]:
    """Every Scrapy setting name the sandbox reads, with its default."""
    return {SETTING_PREFIX + f.name.upper(): f.default for f in dataclasses.fields(SandboxConfig)}


def add_arguments(parser: argparse.ArgumentParser, defaults: bool = True) -> None:
    """Add one --flag per SandboxConfig field (defaults None when defaults=False, e.g. under Scrapy)."""
    group = parser.add_argument_group("Sandbox options")
    for f in dataclasses.fields(SandboxConfig):
        flag = "--" + f.name.replace("_", "-")
        help = f"{f.metadata['help']} [default {f.default}, setting {SETTING_PREFIX}{f.name.upper()}]"
        if isinstance(f.default, bool):
            group.add_argument(flag, dest=f.name, action="store_const", const=True,
                               default=f.default if defaults else None, help=help.replace("%", "%%"))
            continue
        group.add_argument(flag, dest=f.name, type=type(f.default), default=f.default if defaults else None,
                           choices=f.metadata["choices"], help=help.replace("%", "%%"))


def build_parser(prog: str = "python -m pixivcrawl.sandbox") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Run the fake Pixiv App API, OAuth and image hosts.")
    add_arguments(parser)
    return parser
