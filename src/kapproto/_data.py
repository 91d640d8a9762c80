"""Reading reference data: kapproto's shipped TOML, and a clinic's TOML or JSON files."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from kapproto.exceptions import (
    KapprotoError,
    ProtocolError,
    UnknownReferenceError,
    ValidationError,
)

T = TypeVar("T")

__all__ = ["latest", "load_data", "read_document", "shipped", "version_key"]


@cache
def load_data(*parts: str) -> dict[str, Any]:
    """Parse a shipped TOML file once, e.g. ``load_data("findings.toml")``."""
    path = resources.files("kapproto").joinpath("data", *parts)
    return tomllib.loads(path.read_text(encoding="utf-8"))


def shipped(folder: str) -> list[tuple[str, dict[str, Any]]]:
    """Every shipped ``.toml`` file of ``data/<folder>``, by name, parsed (once each)."""
    entries = resources.files("kapproto").joinpath("data", folder).iterdir()
    names = sorted(e.name for e in entries if e.name.endswith(".toml"))
    return [(name, load_data(folder, name)) for name in names]


def read_document(
    path: str | os.PathLike[str], *, error: type[KapprotoError] = ProtocolError
) -> Any:
    """Parse a reference file of a clinic's: JSON if it ends in ``.json``, TOML otherwise.

    Protocols, rule sets, plan templates and instruments are all read here.
    JSON is read strictly (:func:`kapproto.serialization.loads`): a key given
    twice in one object, or ``NaN``/``Infinity``, is refused at its JSON path
    rather than silently keeping the last value.

    Args:
        path: The file.
        error: The :class:`~kapproto.exceptions.KapprotoError` subclass to raise.

    Raises:
        KapprotoError: ``error``: the file cannot be read or is not valid TOML
            or JSON, every duplicate key and non-finite number with its path.
            (What the document must hold is for its reader to say.)
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read {p}: {getattr(exc, 'strerror', None) or exc}") from None
    if p.suffix.lower() == ".json":
        from kapproto.serialization import loads  # strict: no duplicate keys, no NaN

        try:
            return loads(text)
        except ValidationError as exc:
            raise error(problems=[(at, _in_file(p, m)) for at, m in exc.problems]) from None
    try:
        return tomllib.loads(text)
    except (ValueError, RecursionError) as exc:  # TOMLDecodeError is a ValueError
        raise error(f"{p} is not valid TOML: {exc}") from None


def _in_file(path: Path, message: str) -> str:
    """``message`` of :func:`~kapproto.serialization.loads`, naming the file it is about."""
    if message.startswith("not valid JSON"):
        return f"{path} is {message}"
    return f"in {path}: {message}"


def version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key for versions: numeric parts as numbers ("10" after "9"), others as text."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in version.split("."))


def latest(
    entries: Mapping[tuple[str, str], T],
    id: str,
    version: str | None,
    *,
    kind: str,
    path: str = "$",
) -> T:
    """The entry ``(id, version)``, or the latest version of ``id`` when ``version`` is None.

    Raises:
        UnknownReferenceError: No such entry; the message lists the known ones.
    """
    if version is None:
        versions = sorted((v for i, v in entries if i == id), key=version_key)
        version_found = versions[-1] if versions else None
    else:
        version_found = version if (id, version) in entries else None
    if version_found is None:
        known = ", ".join(f"{i}@{v}" for i, v in sorted(entries)) or "none"
        wanted = f"{id}@{version}" if version is not None else id
        raise UnknownReferenceError(f"unknown {kind} {wanted!r}; known: {known}", path=path)
    return entries[(id, version_found)]
