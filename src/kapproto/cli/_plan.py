"""``kapproto plan``: date an integration-plan template for one course.

``TEMPLATE`` is a built-in template id (``kap-weekly-3``, or ``id@version``)
or a template file (TOML or JSON). Dates are ISO 8601: a date alone means
00:00, and a time without a UTC offset is read in ``--timezone``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import zoneinfo
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kapproto.cli._common import DISCLAIMER, EXIT_INVALID, EXIT_OK, Listers, print_json
from kapproto.exceptions import ValidationError


def _templates() -> tuple[Sequence[str], list[Sequence[str]]]:
    from kapproto._integration import builtin_templates

    rows: list[Sequence[str]] = [
        (t.id, t.version, t.title, str(len(t.steps))) for t in builtin_templates().values()
    ]
    return ("id", "version", "title", "steps"), rows


def register(sub: Any, listers: Listers) -> None:
    """Add ``kapproto plan`` and ``kapproto list templates``."""
    listers["templates"] = _templates
    parser = sub.add_parser(
        "plan",
        help="date an integration-plan template for one course (Markdown, iCalendar, JSON)",
        description="Exit 0 with the plan on stdout, 2 for invalid input. A date alone "
        "means 00:00; a time without a UTC offset is read in --timezone.",
    )
    parser.add_argument("template", help="template id (e.g. kap-weekly-3, or id@version) or file")
    parser.add_argument("--start", help="course start (default: the first dosing time)")
    parser.add_argument("--dosing", nargs="*", default=[], metavar="DATE", help="dosing times")
    parser.add_argument("--timezone", required=True, help="IANA zone, e.g. America/Denver")
    parser.add_argument("--id", help="plan id (e.g. the course id), used in iCalendar UIDs")
    parser.add_argument("--format", choices=("md", "ics", "json", "fhir"), default="md")
    parser.set_defaults(run=_run)


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"{name!r} is not an IANA time zone such as 'America/Denver'", path="$.timezone"
        ) from None


def _moment(text: str, zone: zoneinfo.ZoneInfo, path: str) -> dt.datetime:
    """An ISO 8601 date or date-time; naive values are read in ``zone``."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{text!r} is not an ISO 8601 date or date-time such as '2026-03-02T09:00'", path=path
        ) from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _template(name: str) -> Any:
    from kapproto._integration import get_template, load_template

    if Path(name).suffix.lower() in {".toml", ".json"} or Path(name).is_file():
        return load_template(name)
    template_id, _, version = name.partition("@")
    return get_template(template_id, version or None)


def _run(args: argparse.Namespace) -> int:
    zone = _zone(args.timezone)
    problems: list[tuple[str, str]] = []
    dosing: list[dt.datetime] = []
    for i, text in enumerate(args.dosing):
        try:
            dosing.append(_moment(text, zone, f"$.dosing[{i}]"))
        except ValidationError as exc:
            problems += exc.problems
    start = None
    if args.start is not None:
        try:
            start = _moment(args.start, zone, "$.start")
        except ValidationError as exc:
            problems += exc.problems
    if problems:
        raise ValidationError(problems=problems)
    plan = _template(args.template).instantiate(
        course_start=start, dosing=dosing, timezone=zone, id=args.id
    )
    if args.format == "json":
        from kapproto.serialization import to_dict

        print_json(to_dict(plan))
    elif args.format == "fhir":
        from kapproto.fhir import dumps, to_fhir

        sys.stdout.write(dumps(to_fhir(plan)))
    elif args.format == "ics":
        try:
            text = plan.to_ical()
        except ImportError as exc:
            print(f"kapproto: {exc}", file=sys.stderr)
            return EXIT_INVALID
        sys.stdout.write(text)
        for conflict in plan.conflicts:
            print(f"kapproto: warning: {conflict.message}", file=sys.stderr)
    else:
        print(plan.to_markdown())
        print(DISCLAIMER)
    return EXIT_OK
