"""Schema-versioned documents: ``"schema": "kapproto.<kind>/<n>"`` and migrations."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from kapproto.exceptions import ValidationError

T = TypeVar("T")
C = TypeVar("C", bound=type)

_SCHEMA = re.compile(r"^kapproto\.([a-z_]+)/(\d+)$")

# kind -> (class, current version); class -> kind
_DOCUMENTS: dict[str, tuple[type, int]] = {}
_KIND_OF: dict[type, str] = {}
# (kind, from_version) -> function upgrading a document dict to from_version + 1
_MIGRATIONS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}


# --------------------------------------------------------------------------
# Documents and migrations
# --------------------------------------------------------------------------


def register_document(kind: str, version: int) -> Callable[[C], C]:
    """Class decorator: instances serialize as ``kapproto.<kind>/<version>`` documents.

    Args:
        kind: Document kind, lower-case (``"session"``).
        version: Current schema version of that kind.
    """

    def decorate(cls: C) -> C:
        _DOCUMENTS[kind] = (cls, version)
        _KIND_OF[cls] = kind
        return cls

    return decorate


def register_migration(
    kind: str, from_version: int
) -> Callable[
    [Callable[[dict[str, Any]], dict[str, Any]]], Callable[[dict[str, Any]], dict[str, Any]]
]:
    """Decorator: register a function upgrading ``kind`` documents from ``from_version``.

    The function receives the document without its ``schema`` key and returns
    it in the shape of ``from_version + 1``. Test every migration with a stored
    old document.

    Example:
        >>> @register_migration("example", 1)
        ... def _rename(doc):
        ...     doc["title"] = doc.pop("name")
        ...     return doc
    """

    def decorate(
        fn: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> Callable[[dict[str, Any]], dict[str, Any]]:
        _MIGRATIONS[(kind, from_version)] = fn
        return fn

    return decorate


def document_kind(cls: type) -> str | None:
    """The document kind a class serializes as, or ``None``."""
    return _KIND_OF.get(cls)


def schema_of(data: object) -> tuple[str, int] | None:
    """Read ``(kind, version)`` from a document's ``schema`` key.

    Raises:
        ValidationError: ``schema`` is present but not ``kapproto.<kind>/<n>``.
    """
    if not isinstance(data, Mapping) or "schema" not in data:
        return None
    match = _SCHEMA.match(data["schema"]) if isinstance(data["schema"], str) else None
    if match is None:
        raise ValidationError(
            f"schema {data['schema']!r} is not of the form 'kapproto.<kind>/<version>'",
            path="$.schema",
        )
    return match.group(1), int(match.group(2))


def _upgrade(data: Mapping[str, Any], kind: str) -> dict[str, Any]:
    _cls, current = _DOCUMENTS[kind]
    doc = dict(data)
    found = schema_of(doc)
    doc.pop("schema", None)
    if found is None:
        return doc
    got_kind, version = found
    if got_kind != kind:
        raise ValidationError(
            f"schema 'kapproto.{got_kind}/{version}' is not a {kind} document; "
            f"expected 'kapproto.{kind}/{current}'",
            path="$.schema",
        )
    if version > current:
        raise ValidationError(
            f"schema 'kapproto.{kind}/{version}' is newer than this kapproto supports "
            f"(kapproto.{kind}/{current}); upgrade kapproto",
            path="$.schema",
        )
    if version < 1:
        raise ValidationError(
            f"unknown schema version 'kapproto.{kind}/{version}'", path="$.schema"
        )
    while version < current:
        migrate = _MIGRATIONS.get((kind, version))
        if migrate is None:
            raise ValidationError(
                f"no migration from 'kapproto.{kind}/{version}' to version {version + 1}",
                path="$.schema",
            )
        doc = migrate(doc)
        version += 1
    return doc
