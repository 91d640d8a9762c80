"""Helpers shared by the ``kapproto`` subcommands."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kapproto.exceptions import KapprotoError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_INCOMPLETE = 3

DISCLAIMER = (
    "kapproto reference data and checks support clinical judgement; they are not medical advice."
)

# `kapproto list WHAT` -> function returning (header, rows)
Listers = dict[str, Callable[[], tuple[Sequence[str], list[Sequence[str]]]]]


def fail(exc: KapprotoError) -> int:
    """Print an input error to stderr, one problem a line with its path; return 2."""
    print(f"kapproto: invalid input ({type(exc).__name__})", file=sys.stderr)
    for path, message in exc.problems:
        print(f"  {path}: {message}", file=sys.stderr)
    return EXIT_INVALID


def read_json(path: str) -> Any:
    """Read and parse a JSON file strictly (see :func:`kapproto.serialization.loads`)."""
    from kapproto.serialization import loads

    return loads(Path(path).read_bytes())


def print_json(data: Any) -> None:
    """Print JSON-ready data, indented, to stdout."""
    print(json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False))


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Render rows as a plain-text table with aligned columns."""
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(str(c))) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
    return "\n".join(lines)


def raise_if(problems: list[tuple[str, str]], cls: type[KapprotoError]) -> None:
    """Raise ``cls`` with every problem if there are any."""
    if problems:
        raise cls(problems=problems)
