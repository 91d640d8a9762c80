"""``kapproto list WHAT``: the built-in reference data."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from typing import Any

from kapproto.cli._common import EXIT_OK, Listers, print_json, table


def _findings() -> tuple[Sequence[str], list[Sequence[str]]]:
    from kapproto._findings import finding_catalogue

    rows: list[Sequence[str]] = [
        (s.code, s.severity.value, s.description, s.source) for s in finding_catalogue().values()
    ]
    return ("code", "severity", "description", "source"), rows


def _key(header: str) -> str:
    """A column header as a JSON key: ``"reference only"`` -> ``"reference_only"``."""
    return re.sub(r"[^a-z0-9]+", "_", header.lower()).strip("_")


def register(sub: Any, listers: Listers) -> None:
    """Add ``kapproto list``."""
    listers["findings"] = _findings
    parser = sub.add_parser("list", help="list built-in protocols, rule sets, templates, ...")
    parser.add_argument("what", help="protocols | rulesets | templates | instruments | findings")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    listers: Listers = args.listers
    if args.what not in listers:
        from kapproto.exceptions import ValidationError

        raise ValidationError(
            f"cannot list {args.what!r}; expected one of {', '.join(sorted(listers))}",
            path="$.what",
        )
    header, rows = listers[args.what]()
    if args.format == "json":
        keys = [_key(h) for h in header]
        print_json([dict(zip(keys, row, strict=True)) for row in rows])
    else:
        print(table(header, rows))
    return EXIT_OK
