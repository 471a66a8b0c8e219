"""Shared benchmark machinery: a standalone sandbox process, measured child processes, tables.

Everything runs on 127.0.0.1. Each measured program runs as its own child
process; its wall time, CPU seconds (user + sys) and peak RSS come from
``os.wait4`` (the kernel's rusage of exactly that child, so a sandbox or a
previous run never pollutes the figure).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable
REFRESH_TOKEN = "sandbox-refresh-token"  # pixivcrawl/sandbox/config.py default

#: Settings that take the politeness delays off for a local sandbox (same as the sandbox add-on's).
FAST_SLOTS = {
    "pixiv-api": {"concurrency": 4, "delay": 0},
    "pixiv-images": {"concurrency": 8, "delay": 0},
}


def fast_slots(image_concurrency: int) -> dict[str, dict[str, Any]]:
    """FAST_SLOTS with ``image_concurrency`` transfers at once in the image slot."""
    return {**FAST_SLOTS, "pixiv-images": {"concurrency": image_concurrency, "delay": 0}}


#: The sandbox serves at most this many works per (mode, date) ranking (its world's works of a day).
RANKING_PER_DAY = 10_000
LAST_DATE = "2026-10-30"  # the sandbox epoch is 2026-11-01


def ranking_plan(works: int) -> tuple[int, str]:
    """(ranking_size, date range) so that ``ranking`` archives ``works`` ranking entries."""
    import datetime as dt

    size = min(works, RANKING_PER_DAY)
    days = -(-works // size)
    last = dt.date.fromisoformat(LAST_DATE)
    first = last - dt.timedelta(days=days - 1)
    return size, (f"{first}..{last}" if days > 1 else str(last))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sandbox_available() -> str | None:
    """None if ``python -m pixivcrawl.sandbox`` can run here, else the reason."""
    probe = subprocess.run(
        [PYTHON, "-c", "import importlib.util as u; import sys; "
         "sys.exit(0 if u.find_spec('pixivcrawl.sandbox.__main__') else 3)"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    if probe.returncode == 0:
        return None
    return "pixivcrawl.sandbox has no __main__ (not landed)" if probe.returncode == 3 else probe.stderr.strip()[-300:]


class SandboxProcess:
    """``python -m pixivcrawl.sandbox`` on free ports, in its own process."""

    def __init__(self, **knobs: Any) -> None:
        self.port = free_port()
        self.image_port = free_port()
        self.knobs = knobs
        self.log = tempfile.NamedTemporaryFile(prefix="bench-sandbox-", suffix=".log", delete=False)  # noqa: SIM115
        args = [PYTHON, "-m", "pixivcrawl.sandbox", "--port", str(self.port), "--image-port", str(self.image_port)]
        for key, value in knobs.items():
            args += ["--" + key.replace("_", "-"), str(value)]
        self.proc = subprocess.Popen(args, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def image_host(self) -> str:
        return f"127.0.0.1:{self.image_port}"

    def _wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sandbox exited ({self.proc.returncode}): {self.log_tail()}")
            try:
                self.stats()
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"sandbox did not answer within {timeout}s: {self.log_tail()}")

    def log_tail(self, n: int = 1500) -> str:
        return Path(self.log.name).read_text(errors="replace")[-n:]

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.api_url}/__stats", timeout=10) as response:
            return json.load(response)

    def cpu_seconds(self) -> float:
        """User + sys CPU seconds the sandbox process has used so far (from /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.api_url}/__stats/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def crawl_settings(self) -> dict[str, Any]:
        return {
            "PIXIV_API_URL": self.api_url,
            # The auth middleware treats every request to the auth URL's host:port as an auth request
            # (no Bearer token), and the sandbox serves OAuth on the API port: name it differently.
            "PIXIV_AUTH_URL": f"http://localhost:{self.port}/auth/token",
            "PIXIV_IMAGE_HOSTS": self.image_host,
            "PIXIV_REFRESH_TOKEN": REFRESH_TOKEN,
        }

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(OSError):
            os.unlink(self.log.name)

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Measured:
    """One measured child process."""

    returncode: int
    wall: float
    cpu: float  # user + sys seconds of the child
    maxrss_mb: float
    stdout: str = ""
    stderr: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.extra.get("timed_out")

    @property
    def status(self) -> str:
        if self.extra.get("timed_out"):
            return f"TIMED OUT after {self.wall:.0f} s (killed)"
        return "ok" if self.returncode == 0 else f"exit {self.returncode}"


def run_measured(args: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path = REPO,
                 timeout: float = 1800) -> Measured:
    """Run ``args`` as a child; wall time, CPU (user+sys) and peak RSS from its own rusage."""
    full_env = {k: v for k, v in os.environ.items() if k != "PIXIV_REFRESH_TOKEN"}
    full_env.update(env or {})
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(args), cwd=cwd, env=full_env, stdout=out, stderr=err)
        deadline = start + timeout
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                # SIGKILL: a livelocked event loop never runs a SIGTERM handler.
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                timed_out = True
                break
            time.sleep(0.02)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            returncode=proc.returncode,
            wall=wall,
            cpu=usage.ru_utime + usage.ru_stime,
            maxrss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            extra={"timed_out": timed_out},
        )


def setting_arg(name: str, value: Any) -> str:
    """``value`` as a ``-s NAME=...`` string that Scrapy's typed getter reads back as ``value``.

    Dicts go as JSON (``getdict`` parses it), lists comma-separated (``getlist``
    splits on commas and parses no JSON); a value that would not come back the
    same raises ValueError, so a benchmark never silently runs other settings.
    """
    from scrapy.settings import BaseSettings

    if isinstance(value, dict):
        text, getter = json.dumps(value), "getdict"
    elif isinstance(value, (list, tuple)):
        text, getter = ",".join(str(v) for v in value), "getlist"
    elif isinstance(value, bool):
        text, getter = ("true" if value else "false"), "getbool"
    else:
        text, getter = str(value), ""
    if getter:
        back = getattr(BaseSettings({name: text}), getter)(name)
        if back != (list(value) if isinstance(value, tuple) else value):
            raise ValueError(f"-s {name}={text} would be read as {back!r}, not {value!r}")
    return text


def crawl_args(spider: str, spider_args: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    args = [PYTHON, "-m", "scrapy", "crawl", spider]
    for key, value in spider_args.items():
        args += ["-a", f"{key}={value}"]
    for key, value in settings.items():
        args += ["-s", f"{key}={setting_arg(key, value)}"]
    return args


def run_crawl(spider: str, sandbox: SandboxProcess, workdir: Path, *, spider_args: dict[str, Any] | None = None,
              settings: dict[str, Any] | None = None, fast: bool = True, files: bool = False,
              timeout: float = 1800) -> Measured:
    """``scrapy crawl spider`` against ``sandbox``, archiving into ``workdir`` (pixiv.db, files/)."""
    values: dict[str, Any] = {
        **sandbox.crawl_settings(),
        "PIXIV_DATABASE_URL": f"sqlite:///{workdir / 'pixiv.db'}",
        "FILES_STORE": str(workdir / "files"),
        "PIXIV_DOWNLOAD_FILES": files,
        "LOG_LEVEL": "WARNING",
        "PIXIV_TOKEN_FILE": str(workdir / "token.json"),
    }
    if fast:
        values["DOWNLOAD_SLOTS"] = FAST_SLOTS
    values.update(settings or {})
    result = run_measured(crawl_args(spider, spider_args or {}, values), timeout=timeout)
    result.extra["stats"] = parse_scrapy_stats(result.stderr)
    return result


def parse_scrapy_stats(log: str) -> dict[str, Any]:
    """The final stats dump of a crawl log (printed at INFO; empty under LOG_LEVEL=WARNING)."""
    marker = "Dumping Scrapy stats:"
    at = log.rfind(marker)
    if at < 0:
        return {}
    text = log[at + len(marker):]
    end = text.find("}")
    import datetime

    try:
        return eval(text[: end + 1], {"datetime": datetime, "__builtins__": {}})
    except Exception:
        return {}


_spiders: list[str] | None = None


def cannot_run(spider: str) -> str | None:
    """Why a benchmark of ``spider`` against the sandbox cannot run here, or None."""
    reason = sandbox_available()
    if reason:
        return f"sandbox not available: {reason}"
    if spider not in available_spiders():
        return f"spider {spider}: not available"
    return None


def available_spiders() -> list[str]:
    """Spiders the project has right now (``scrapy list``); empty if the project cannot load."""
    global _spiders
    if _spiders is None:
        res = subprocess.run([PYTHON, "-m", "scrapy", "list"], cwd=REPO, capture_output=True, text=True, check=False)
        _spiders = res.stdout.split() if res.returncode == 0 else []
    return _spiders


def db_count(db: Path, table: str) -> int | None:
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(db)) as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    except sqlite3.Error:
        return None


def files_in(root: Path) -> tuple[int, int]:
    n = size = 0
    if root.exists():
        for p in root.rglob("*"):
            if p.is_file():
                n += 1
                size += p.stat().st_size
    return n, size


@contextlib.contextmanager
def workdir(prefix: str = "pixivbench-") -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}x"


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A Markdown table (pastes into the README as is)."""
    cells = [[str(h) for h in headers]] + [[fmt(c) if not isinstance(c, str) else c for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    print(f"\n### {title}\n")
    for n, row in enumerate(cells):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    sys.stdout.flush()


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        import scrapy

        scrapy_version = scrapy.__version__
    except ImportError:
        scrapy_version = "?"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, Scrapy {scrapy_version}, "
            f"{platform.system()} {platform.release()}; load average {load} (other work on the machine skews wall "
            f"times; CPU s are the child's own)")


def fail_note(m: Measured) -> str:
    """The last lines of a failed run's stderr, for the report."""
    lines = [line for line in m.stderr.splitlines() if line.strip()]
    return " / ".join(lines[-4:])[-600:]
