"""Notifications of an archive run: a command given the JSON report, and/or the report POSTed to a URL."""

from __future__ import annotations

import json
import logging
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pixivcrawl.runs.plans import Plan

logger = logging.getLogger(__name__)
TIMEOUT = 60


def notify(plan: Plan, report: dict[str, Any]) -> None:
    """Send ``report`` as the plan says (``notify_on``: failure or always).

    A notifier that fails (exit status, timeout, HTTP error, unreachable) is
    logged and never fails the archive run.
    """
    if plan.notify_on == "failure" and report["ok"]:
        return
    body = json.dumps(report, ensure_ascii=False).encode()
    if plan.notify_command:
        try:
            done = subprocess.run(plan.notify_command, input=body, capture_output=True, timeout=TIMEOUT, check=False)  # noqa: S603
        except (OSError, subprocess.TimeoutExpired) as exc:
            logger.warning("Notify command %s failed: %s", plan.notify_command[0], exc)
        else:
            if done.returncode != 0:
                logger.warning("Notify command %s exited with status %s: %s", plan.notify_command[0], done.returncode,
                               done.stderr.decode(errors="replace").strip()[-300:])
    if plan.notify_url:
        request = urllib.request.Request(plan.notify_url, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT):  # noqa: S310
                pass
        except (urllib.error.URLError, OSError, ValueError) as exc:
            logger.warning("Notify URL %s failed: %s", mask_url_text(plan.notify_url), exc)


def mask_url_text(url: str) -> str:
    """A notify URL as logs may show it: no user info, no query (webhook tokens live there)."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
