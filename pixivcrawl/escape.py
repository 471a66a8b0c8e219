"""Server-supplied text made safe to log: one line, no control characters, bounded length.

A hostile or broken server can put newlines (forged log lines), ANSI escapes
(terminal tricks) or bidi overrides into an error message or a URL. Everything
that came from the network goes through :func:`printable` before it is logged.
"""

from __future__ import annotations

import re

#: How much of one server-supplied text a log line keeps.
MAX_LOGGED = 300

#: C0/C1 controls and DEL, line/paragraph separators, bidi marks, overrides and isolates.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, limit: int = MAX_LOGGED) -> str:
    """``text`` as one log-safe line: control, line-separator and bidi characters
    escaped (``\\n``, ``\\x1b``, ``\\u202e``), cut to ``limit`` characters."""
    value = str(text)
    if len(value) > limit:
        value = value[:limit] + "…"
    return _UNSAFE.sub(_escape, value)
