"""``kapproto list WHAT``: the built-in reference data."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from kapproto.cli._common import EXIT_OK, Listers, print_json, table


def _findings() -> tuple[Sequence[str], list[Sequence[str]]]:
    from kapproto._findings import finding_catalogue

    rows: list[Sequence[str]] = [
        (s.code, s.severity.value, s.description) for s in finding_catalogue().values()
    ]
    return ("code", "severity", "description"), rows


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
        print_json([dict(zip(header, row, strict=True)) for row in rows])
    else:
        print(table(header, rows))
    return EXIT_OK
