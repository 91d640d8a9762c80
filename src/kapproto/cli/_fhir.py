"""``kapproto fhir``: export a kapproto document as FHIR R4 (or CDS Hooks cards)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kapproto.cli._common import EXIT_OK, Listers, read_json

_KINDS = ("session", "course", "plan", "screening_report")


def register(sub: Any, listers: Listers) -> None:
    """Add ``kapproto fhir``."""
    parser = sub.add_parser(
        "fhir",
        help="export a session, course, plan, screening report or protocol as FHIR R4",
        description="Exit 0 written, 2 unreadable or invalid input. A JSON document's "
        "kind is read from its `schema`: kapproto.session/1 and kapproto.course/1 give "
        "a Bundle, kapproto.plan/1 a CarePlan, kapproto.screening_report/1 a list of "
        "CDS Hooks cards. A protocol file (TOML, or JSON with a `doses` key) gives a "
        "PlanDefinition.",
    )
    parser.add_argument("document", help="a kapproto JSON document or a protocol file")
    parser.add_argument("--output", help="write the result here instead of stdout")
    parser.add_argument(
        "--patient", help="patient id a plan's CarePlan refers to (a plan names none)"
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from kapproto.fhir import dumps, to_fhir

    text = dumps(to_fhir(_read(args.document), patient=args.patient))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return EXIT_OK


def _read(path: str) -> Any:
    """The record in ``path``: a protocol file or a document of one of ``_KINDS``."""
    from kapproto._courses import Course
    from kapproto._data import read_document
    from kapproto._plans import IntegrationPlan
    from kapproto._protocols import Protocol
    from kapproto._sessions import Session
    from kapproto.exceptions import ValidationError
    from kapproto.screening import ScreeningReport
    from kapproto.serialization import from_dict, schema_of

    if Path(path).suffix.lower() == ".toml":
        return Protocol.from_dict(read_document(path))
    data = read_json(path)
    if isinstance(data, dict) and "schema" not in data and "doses" in data:
        return Protocol.from_dict(data)
    schema = schema_of(data)
    types = dict(zip(_KINDS, (Session, Course, IntegrationPlan, ScreeningReport), strict=True))
    if schema is None or schema[0] not in types:
        raise ValidationError(
            f"schema={data.get('schema') if isinstance(data, dict) else None!r}; kapproto "
            "fhir exports a kapproto.session, course, plan or screening_report document, "
            "or a protocol file",
            path="$.schema",
        )
    return from_dict(data, types[schema[0]])
