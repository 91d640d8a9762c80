"""attrs validators shared by kapproto's records."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

import attrs

from kapproto.exceptions import ValidationError

__all__ = ["aware", "text"]


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
    if any(unicodedata.category(c) == "Cc" and c not in "\t\r\n" for c in value):
        raise ValidationError(
            f"{attribute.name}={value!r} contains a control character", path=f"$.{attribute.name}"
        )
