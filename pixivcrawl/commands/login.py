"""``scrapy login``: get a Pixiv refresh token (PKCE web login) and store it in PIXIV_TOKEN_FILE."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from pixivcrawl.cli import ProjectCommand
from pixivcrawl.exceptions import ArgumentError, AuthError

if TYPE_CHECKING:
    import argparse

    from pixivcrawl import auth


def pending_verifier_path(token_file: str) -> Path:
    """Where a started login keeps its PKCE verifier until ``--code`` finishes it."""
    path = Path(token_file)
    return path.with_name(f".{path.name}.login")


class Command(ProjectCommand, ScrapyCommand):
    """Log in to Pixiv and store the account's refresh token (mode 0600).

    ``scrapy login`` prints the login URL and reads the callback URL (or its
    ``code``) from stdin; ``scrapy login --code CODE`` finishes a login started
    earlier; ``scrapy login --token TOKEN`` (``-`` reads stdin) stores a refresh
    token the user already has, after checking it. Settings: PIXIV_API_URL
    (the login page is on its host), PIXIV_AUTH_URL, PIXIV_TOKEN_FILE.
    """

    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--code CODE | --token TOKEN]"

    def short_desc(self) -> str:
        return "Log in to Pixiv and store the refresh token in PIXIV_TOKEN_FILE"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--code",
            metavar="CODE",
            help="finish a login started by `scrapy login`: the code or the whole callback URL",
        )
        parser.add_argument(
            "--token",
            metavar="TOKEN",
            help="store this refresh token after checking it ('-' reads it from stdin, out of `ps`)",
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError("scrapy login takes no arguments")
        if opts.code and opts.token:
            raise UsageError("give --code or --token, not both")
        assert self.settings is not None
        from pixivcrawl import auth

        auth_url = self.settings["PIXIV_AUTH_URL"]
        token_file = self.settings["PIXIV_TOKEN_FILE"]
        self.ca_bundle = self.settings["PIXIV_CA_BUNDLE"]
        try:
            if opts.token:
                token = sys.stdin.readline().strip() if opts.token == "-" else opts.token
                grant = auth.verify_refresh_token(auth_url, token, ca_bundle=self.ca_bundle)
                self._save(token_file, grant.refresh_token or token, grant)
            else:
                grant = self._pkce_login(self.settings["PIXIV_API_URL"], auth_url, token_file, opts.code)
                self._save(token_file, grant.refresh_token, grant)
        except ArgumentError as exc:
            print(f"pixivcrawl: {exc}", file=sys.stderr)
            self.exitcode = 2
        except AuthError as exc:
            print(f"pixivcrawl: login failed: {exc}", file=sys.stderr)
            self.exitcode = 1

    def _pkce_login(self, api_url: str, auth_url: str, token_file: str, code: str | None) -> auth.Grant:
        from pixivcrawl import auth

        pending = pending_verifier_path(token_file)
        if code is None:
            verifier = auth.new_code_verifier()
            # Kept on disk so that `--code` can finish this login from another shell.
            auth.write_token_file(pending, {"code_verifier": verifier})
            print("Open this URL in a browser and log in to Pixiv:\n")
            print(f"  {auth.login_url(api_url, verifier)}\n")
            print(
                "Then paste the URL Pixiv sends you to (…/web/v1/users/auth/pixiv/callback?code=…;\n"
                "find it in the browser's developer tools, Network tab) or just its code.\n"
                "The code expires 30 seconds after you log in.\n"
            )
            print("Callback URL or code: ", end="", flush=True)
            line = sys.stdin.readline()
            if not line.strip():
                raise AuthError("no code given; paste it here, or run `scrapy login --code CODE`")
            code = line
        else:
            verifier = str(auth.read_token_file(pending).get("code_verifier") or "")
            if not verifier:
                raise AuthError("no login in progress: run `scrapy login` first to get the login URL")
        try:
            grant = auth.exchange_code(auth_url, auth.code_from(code), verifier, ca_bundle=self.ca_bundle)
        except AuthError as exc:
            if "expired" in str(exc):
                raise AuthError(f"{exc}; run `scrapy login` again and paste the code within 30 seconds") from None
            raise
        pending.unlink(missing_ok=True)
        if not grant.refresh_token:
            raise AuthError("the token endpoint answered without a refresh token")
        return grant

    def _save(self, token_file: str, refresh_token: str, grant: auth.Grant) -> None:
        from pixivcrawl import auth

        auth.write_token_file(token_file, auth.token_file_data(refresh_token, grant.account))
        who = (
            f"{grant.account.name} (@{grant.account.account}, user id {grant.account.user_id})"
            if grant.account
            else "an account the token endpoint did not name"
        )
        print(f"Logged in as {who}. Refresh token saved to {token_file} (mode 0600).")
