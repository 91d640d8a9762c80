"""Reading reference data: kapproto's shipped TOML, and a clinic's TOML or JSON files."""

from __future__ import annotations

import json
import os
import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from kapproto.exceptions import KapprotoError, ProtocolError

__all__ = ["load_data", "read_document", "shipped"]


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

    Args:
        path: The file.
        error: The :class:`~kapproto.exceptions.KapprotoError` subclass to raise.

    Raises:
        KapprotoError: ``error``: the file cannot be read or is not valid TOML
            or JSON. (What the document must hold is for its reader to say.)
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read {p}: {getattr(exc, 'strerror', None) or exc}") from None
    is_json = p.suffix.lower() == ".json"
    try:
        data = json.loads(text) if is_json else tomllib.loads(text)
    except (ValueError, RecursionError) as exc:  # TOMLDecodeError is a ValueError
        raise error(f"{p} is not valid {'JSON' if is_json else 'TOML'}: {exc}") from None
    return data
