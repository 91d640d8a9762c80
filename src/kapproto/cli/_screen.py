"""``kapproto screen FACTS.json`` and ``kapproto list rulesets``."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kapproto.cli._common import DISCLAIMER, EXIT_FAILED, EXIT_OK, Listers, print_json, read_json

DEFAULT_RULES = "ketamine-contraindications"


def _rulesets() -> tuple[Sequence[str], list[Sequence[str]]]:
    from kapproto.screening import builtin_rulesets

    rows: list[Sequence[str]] = [
        (rs.id, rs.version, str(len(rs.rules)), rs.title, rs.source)
        for rs in builtin_rulesets().values()
    ]
    return ("id", "version", "rules", "title", "source"), rows


def register(sub: Any, listers: Listers) -> None:
    """Add ``kapproto screen`` and the ``rulesets`` lister."""
    listers["rulesets"] = _rulesets
    parser = sub.add_parser(
        "screen",
        help="screen a candidate's facts against an eligibility rule set",
        description="Screen the facts in FACTS.json (a nested JSON object, see the fact "
        "catalogue) against a rule set. Exit 0 eligible, 1 ineligible, review or "
        "incomplete, 2 invalid input.",
    )
    parser.add_argument("facts", metavar="FACTS.json", help="the candidate's facts")
    parser.add_argument(
        "--rules",
        default=DEFAULT_RULES,
        metavar="ID|PATH",
        help=f"built-in rule-set id (ID or ID@VERSION) or a .toml/.json file (default {DEFAULT_RULES})",
    )
    parser.add_argument(
        "--time",
        default=None,
        help="when the screening was done, ISO 8601 with its UTC offset (kept in the report)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=_run)


def _ruleset(spec: str) -> Any:
    from kapproto.screening import get_ruleset, load_ruleset

    if spec.endswith((".toml", ".json")) or Path(spec).is_file():
        return load_ruleset(spec)
    rid, _, version = spec.partition("@")
    return get_ruleset(rid, version or None)


def _time(text: str | None) -> dt.datetime | None:
    from kapproto.exceptions import ValidationError

    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise ValidationError(
            f"{text!r} is not an ISO 8601 date-time with its offset, such as "
            "'2026-03-02T09:00:00-07:00'",
            path="$.time",
        )
    return moment


def _value(value: Any) -> str:
    from kapproto.units import format_quantity

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return format_quantity(value)


def _text(report: Any) -> str:
    lines = [f"decision: {report.decision.value.upper()} (rule set {report.ruleset})"]
    for f in report.findings:
        lines.append(
            f"  {f.outcome.value:<8} {f.severity.value:<9} {f.rule_id}: {f.title} [{f.source}]"
        )
        if f.values:
            shown = ", ".join(f"{p} = {_value(v)}" for p, v in f.values.items())
            lines.append(f"{'':21}values: {shown}")
        if f.missing:
            lines.append(f"{'':21}unknown: {', '.join(f.missing)}")
    if report.missing:
        lines.append(f"missing facts: {', '.join(report.missing)}")
    if not report.findings:
        lines.append("no rule matched; every rule could be decided")
    lines.append(DISCLAIMER)
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    from kapproto.screening import Decision, Facts, screen
    from kapproto.serialization import to_dict

    ruleset = _ruleset(args.rules)
    facts = Facts(read_json(args.facts))
    report = screen(facts, ruleset, time=_time(args.time))
    if args.format == "json":
        print_json(to_dict(report))
    else:
        print(_text(report))
    return EXIT_OK if report.decision is Decision.ELIGIBLE else EXIT_FAILED
