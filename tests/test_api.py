"""Recognising App API error bodies."""

from __future__ import annotations

import json

from pixivcrawl.api import error_of, is_oauth_error

OAUTH = {"error": {"user_message": "", "message": "Error occurred at the OAuth process. Please check your Access "
                   "Token to fix this. Error Message: invalid_grant", "reason": "", "user_message_details": {}}}


def test_error_bodies_are_recognised_compact_or_pretty() -> None:
    for body in (json.dumps(OAUTH), json.dumps(OAUTH, indent=4), "\n  " + json.dumps(OAUTH)):
        error = error_of(body.encode())
        assert error is not None and is_oauth_error(error)
    assert error_of(b'{"error":{"user_message":"","message":"Rate Limit","reason":""}}') == {
        "user_message": "", "message": "Rate Limit", "reason": ""}


def test_listings_and_other_bodies_are_not_errors() -> None:
    listing = {"illusts": [{"id": 1, "title": "error"}], "next_url": None, "error": "not at the top"}
    assert error_of(json.dumps(listing).encode()) is None
    assert error_of(b"<html>error</html>") is None
    assert error_of(b'{"error": "just a string"}') is None
    assert error_of(b'{"error": {broken') is None


def test_settings_name_the_download_slots_by_their_constants() -> None:
    # settings.py spells the slot names out (a settings module exports its upper-case names);
    # they must stay the names the middlewares put requests in.
    from pixivcrawl import api, settings
    from pixivcrawl.addons import SANDBOX_SLOTS

    assert set(settings.DOWNLOAD_SLOTS) == {api.API_SLOT, api.IMAGE_SLOT}
    assert set(SANDBOX_SLOTS) == {api.API_SLOT, api.IMAGE_SLOT}


def test_endpoints_send_their_parameters_in_order_with_their_defaults() -> None:
    import pytest

    from pixivcrawl import api

    # filter is PIXIV_FILTER, fixed values are always sent, None leaves a parameter out.
    assert api.ILLUST_RANKING.url("https://a", {"date": "2024-01-01", "mode": "day"}, "for_ios") == (
        "https://a/v1/illust/ranking?mode=day&filter=for_ios&date=2024-01-01")
    assert api.USER_RELATED.query({"seed_user_id": 7}, "") == "filter=&offset=0&seed_user_id=7"
    assert api.NOVEL_NEW.query({"max_novel_id": None}, "for_android") == "filter=for_android"
    assert api.USER_MYPIXIV.query({"user_id": 3}, "for_ios") == "user_id=3"
    with pytest.raises(TypeError, match="takes no filer"):
        api.ILLUST_DETAIL.query({"illust_id": 1, "filer": "x"}, "for_ios")
