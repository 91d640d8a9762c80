"""``kapproto check``: a session or course record against its protocol."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kapproto.cli._common import (
    DISCLAIMER,
    EXIT_FAILED,
    EXIT_INCOMPLETE,
    EXIT_OK,
    Listers,
    print_json,
    read_json,
    table,
)


def _protocols() -> tuple[Sequence[str], list[Sequence[str]]]:
    from kapproto._catalog import Catalog

    rows: list[Sequence[str]] = [
        [p.id, p.version, p.title, "yes" if p.reference_only else "no"]
        for (_, _), p in sorted(Catalog.builtin().protocols.entries.items())
    ]
    return ["id", "version", "title", "reference only"], rows


def register(sub: Any, listers: Listers) -> None:
    """Add ``kapproto check``."""
    listers["protocols"] = _protocols
    parser = sub.add_parser(
        "check",
        help="check a session or course record against its protocol",
        description="Exit 0 compliant, 1 non-compliant, 2 unreadable or invalid input, 3 incomplete.",
    )
    parser.add_argument("record", help="a kapproto.session/1 or kapproto.course/1 JSON file")
    parser.add_argument(
        "--protocol",
        help="protocol id (built-in or from --catalog) or a protocol file; default: the record's own",
    )
    parser.add_argument(
        "--catalog",
        action="append",
        default=[],
        help="folder or file of a clinic's protocols, rule sets, templates",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=_run)


def catalog_from(args: argparse.Namespace) -> Any:
    """The built-in catalogue plus the files named by ``--catalog``."""
    from kapproto._catalog import Catalog

    catalog = Catalog.builtin()
    return catalog.with_files(*args.catalog) if args.catalog else catalog


def protocol_from(args: argparse.Namespace, catalog: Any, ref: Any) -> Any:
    """The protocol named by ``--protocol`` (id or file), else by the record's reference."""
    from kapproto._catalog import load_protocol
    from kapproto.exceptions import ValidationError

    if args.protocol:
        if Path(args.protocol).is_file():
            return load_protocol(args.protocol, catalog=catalog)
        return catalog.protocol(args.protocol, path="--protocol")
    if ref is None:
        raise ValidationError(
            "the record names no protocol; pass --protocol ID|PATH", path="$.protocol"
        )
    return catalog.protocol(ref.id, ref.version, path="$.protocol")


def _run(args: argparse.Namespace) -> int:
    from kapproto._compliance import Status, check_course, check_session
    from kapproto._courses import Course
    from kapproto._sessions import Session
    from kapproto.serialization import from_dict, schema_of, to_dict

    data = read_json(args.record)
    found = schema_of(data)
    kind = (
        found[0]
        if found
        else ("course" if isinstance(data, dict) and "sessions" in data else "session")
    )
    catalog = catalog_from(args)
    if kind == "course":
        course = from_dict(data, Course)
        protocol = protocol_from(args, catalog, course.protocol)
        report = check_course(course, protocol, catalog=catalog)
        subject = f"course {course.id}"
    else:
        session = from_dict(data, Session)
        protocol = protocol_from(args, catalog, session.protocol)
        report = check_session(session, protocol, catalog=catalog)
        subject = f"session {session.id}"
    if args.format == "json":
        print_json(to_dict(report))
    else:
        print(render(report, protocol, f"{args.record} ({subject})"))
    return {
        Status.COMPLIANT: EXIT_OK,
        Status.NONCOMPLIANT: EXIT_FAILED,
        Status.INCOMPLETE: EXIT_INCOMPLETE,
    }[report.status]


def render(report: Any, protocol: Any, subject: str) -> str:
    """A compliance report as text a clinician reads at a glance."""
    lines = [
        f"{report.status.value.upper()}: {subject}",
        f"protocol {protocol.id} version {protocol.version}: {protocol.title}"
        + (" (reference protocol)" if protocol.reference_only else ""),
        "",
    ]
    if report.findings:
        rows: list[Sequence[str]] = [
            [
                f.severity.value + (" (acknowledged)" if f.acknowledged else ""),
                f.code,
                f.path,
                f.message,
            ]
            for f in report.findings
        ]
        lines += ["Findings:", table(["severity", "code", "where", "what"], rows), ""]
    else:
        lines += ["Findings: none", ""]
    if report.not_evaluable:
        gaps: list[Sequence[str]] = [[n.check, n.path, n.reason] for n in report.not_evaluable]
        lines += [
            "Not evaluable (missing from the record):",
            table(["check", "missing", "why"], gaps),
            "",
        ]
    if report.not_configured:
        lines += ["Not configured by the protocol: " + ", ".join(report.not_configured), ""]
    lines.append(DISCLAIMER)
    return "\n".join(lines)
