"""The ``kapproto`` command.

Each subcommand lives in its own private module here and registers itself
through :func:`register`-style functions listed in ``_COMMANDS``. Exit codes
are stable (see the CLI reference): 0 success / compliant / eligible,
1 non-compliant / not eligible, 2 unreadable or invalid input (the JSON path on
stderr, never a traceback), 3 incomplete.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from kapproto.cli._common import EXIT_INVALID, Listers, fail
from kapproto.exceptions import KapprotoError

__all__ = ["main"]

# Modules under kapproto.cli that define `register(subparsers, listers)`.
_COMMANDS: tuple[str, ...] = (
    "kapproto.cli._list",
    "kapproto.cli._check",
    "kapproto.cli._score",
    "kapproto.cli._screen",
    "kapproto.cli._fhir",
    "kapproto.cli._plan",
    "kapproto.cli._dose",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``kapproto`` command."""
    parser = argparse.ArgumentParser(
        prog="kapproto",
        description="Check KAP session records against protocols, compute doses, "
        "score scales, screen eligibility. Reference data with sources; not medical advice.",
    )
    parser.add_argument("--version", action="store_true", help="print kapproto's version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    listers: Listers = {}
    for name in _COMMANDS:
        importlib.import_module(name).register(sub, listers)
    parser.set_defaults(listers=listers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``kapproto`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from importlib.metadata import version

        print(version("kapproto"))
        return 0
    if getattr(args, "run", None) is None:
        parser.print_help()
        return EXIT_INVALID
    try:
        code: int = args.run(args)
    except KapprotoError as exc:
        return fail(exc)
    except OSError as exc:
        print(f"kapproto: {exc}", file=sys.stderr)
        return EXIT_INVALID
    return code
