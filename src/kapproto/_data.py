"""Reading kapproto's shipped reference data (TOML under ``kapproto/data``)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["load_data"]


@cache
def load_data(*parts: str) -> dict[str, Any]:
    """Parse a shipped TOML file once, e.g. ``load_data("findings.toml")``."""
    path = resources.files("kapproto").joinpath("data", *parts)
    return tomllib.loads(path.read_text(encoding="utf-8"))
