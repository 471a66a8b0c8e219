"""The sandbox's admin endpoints validate their input: a bad /__clock step is a 400 with a message
and leaves the clock (and the sandbox) working."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest


def post_clock(sandbox, advance: str) -> tuple[int, dict]:
    request = urllib.request.Request(f"{sandbox.server.api_url}/__clock?advance={advance}", method="POST")
    try:
        with urllib.request.urlopen(request) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


@pytest.mark.parametrize("advance", ["1e300", "-1e300", "nan", "inf", "abc", "9" * 400])
def test_a_bad_clock_step_is_refused_and_changes_nothing(sandbox, advance) -> None:
    status, body = post_clock(sandbox, advance)
    assert status == 400
    assert f"advance={advance!r}" in body["error"] and "expected seconds" in body["error"]
    status, body = post_clock(sandbox, "86400")
    assert status == 200 and body["advance"] == 86400
