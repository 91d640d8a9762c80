"""attrs validators and the time helper shared by kapproto's records."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

import attrs

from kapproto.exceptions import ValidationError

__all__ = ["aware", "instant", "text"]


def aware(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    """A timezone-aware datetime (``None`` allowed where the field defaults to ``None``)."""
    if value is None and attribute.default is None:
        return
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise ValidationError(
            f"{attribute.name}={value!r} must be a timezone-aware datetime",
            path=f"$.{attribute.name}",
        )


def text(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    """A non-blank string without control characters (ids, terms, roles).

    Control characters (other than tab and newlines) are refused: they are
    never meant in an id, and FHIR strings cannot carry them.
    """
    if value is None and attribute.default is None:
        return
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            f"{attribute.name}={value!r} must be a non-empty string", path=f"$.{attribute.name}"
        )
    if not value.isprintable() and any(
        unicodedata.category(c) == "Cc" and c not in "\t\r\n" for c in value
    ):
        raise ValidationError(
            f"{attribute.name}={value!r} contains a control character", path=f"$.{attribute.name}"
        )


def instant(moment: dt.datetime) -> dt.datetime:
    """``moment`` such that comparing and subtracting measure real time.

    Python compares and subtracts two datetimes that share one tzinfo object by
    wall clock: with ``ZoneInfo("America/Denver")`` a 65-minute observation
    across the spring change reads as 125 minutes, and 01:20 MST after the
    autumn change sorts before 01:30 MDT. A fixed UTC offset (what JSON gives)
    has no such gap and is returned as is; any other zone is converted to UTC.
    """
    if type(moment.tzinfo) is dt.timezone:
        return moment
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:  # a local time at the very ends of the datetime range
        raise ValidationError(
            f"{moment.isoformat()} cannot be placed in UTC: it lies outside the datetime range there"
        ) from None
