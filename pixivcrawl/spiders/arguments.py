"""Spider arguments: their declarations (:class:`Arg`), parsers, ``--help`` text and checking."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from pixivcrawl.exceptions import ArgumentError

JST = dt.timezone(dt.timedelta(hours=9), "JST")


@dataclass(frozen=True, slots=True)
class Arg:
    """One spider argument: how to parse it, its accepted values and default."""

    help: str
    choices: tuple[str, ...] | None = None
    default: Any = None
    parse: Callable[[str], Any] | None = None
    expects: str = ""
    required: bool = False


def parse_positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError
    return number


def parse_date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def parse_ids(value: str) -> list[int]:
    """``123`` or ``123,456``: Pixiv ids, in order, without repeats."""
    ids = [parse_positive_int(part.strip()) for part in value.split(",")]
    return list(dict.fromkeys(ids))


def parse_bool(value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError
    return lowered in ("true", "1", "yes")


def parse_dates(value: str) -> list[dt.date]:
    """``YYYY-MM-DD`` or ``START..END`` (inclusive) as a list of dates."""
    start, sep, end = value.partition("..")
    first = dt.date.fromisoformat(start)
    last = dt.date.fromisoformat(end) if sep else first
    if last < first:
        raise ValueError
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def yesterday_in_japan() -> dt.date:
    return dt.datetime.now(JST).date() - dt.timedelta(days=1)


class DeclaredArguments:
    """The ``-a`` arguments of a spider: subclasses declare ``arguments`` (name -> :class:`Arg`);
    :meth:`parse_arguments` checks them before any request, :meth:`arguments_help` shows them."""

    name: str
    arguments: ClassVar[dict[str, Arg]] = {}
    common_arguments: ClassVar[dict[str, Arg]] = {
        "pages": Arg(
            "maximum pages per listing (30 works a page)",
            parse=parse_positive_int,
            expects="a whole number >= 1",
        ),
    }

    @classmethod
    def all_arguments(cls) -> dict[str, Arg]:
        return {**cls.arguments, **cls.common_arguments}

    @classmethod
    def description(cls) -> str:
        """The first line of the spider's docstring (``scrapy list`` shows it)."""
        return next(iter((cls.__doc__ or "").strip().splitlines()), "").replace("``", "")

    @classmethod
    def arguments_help(cls) -> str:
        """``scrapy crawl SPIDER --help``: each argument with its accepted values and default,
        from the same declarations :meth:`parse_arguments` checks."""
        lines = [f"Spider {cls.name}: {cls.description()}", "", "Arguments (-a NAME=VALUE):"]
        width = max(len(name) for name in cls.all_arguments())
        for name, arg in cls.all_arguments().items():
            accepted = f"one of: {', '.join(arg.choices)}" if arg.choices else arg.expects
            parts = [arg.help, accepted]
            if arg.required:
                parts.append("required")
            elif arg.default is not None:
                parts.append(f"default: {arg.default}")
            lines.append(f"  {name.ljust(width)}  " + "; ".join(p for p in parts if p))
        return "\n".join(lines)

    @classmethod
    def parse_arguments(cls, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Parse ``-a`` arguments; ArgumentError names the argument and accepted values."""
        declared = cls.all_arguments()
        unknown = sorted(set(kwargs) - set(declared))
        if unknown:
            raise ArgumentError(
                f"spider {cls.name}: unknown argument {unknown[0]!r}; "
                f"accepted: {', '.join(declared)}"
            )
        values: dict[str, Any] = {}
        for key, arg in declared.items():
            raw = kwargs.get(key)
            if raw is None or raw == "":
                if arg.required:
                    raise ArgumentError(
                        f"spider {cls.name}: missing {key}; expected {arg.expects or arg.help}"
                    )
                values[key] = arg.default
                continue
            values[key] = cls._parse_argument(key, arg, str(raw))
        return values

    @classmethod
    def _parse_argument(cls, key: str, arg: Arg, raw: str) -> Any:
        if arg.choices is not None:
            if raw not in arg.choices:
                raise ArgumentError(
                    f"spider {cls.name}: bad {key}={raw!r}; expected one of: {', '.join(arg.choices)}"
                )
            return raw
        if arg.parse is None:
            return raw
        try:
            return arg.parse(raw)
        except (ValueError, TypeError):
            raise ArgumentError(
                f"spider {cls.name}: bad {key}={raw!r}; expected {arg.expects or arg.help}"
            ) from None
