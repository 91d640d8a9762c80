"""``kapproto fhir``: export a session document as a FHIR R4 Bundle."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kapproto.cli._common import EXIT_OK, Listers, read_json


def register(sub: Any, listers: Listers) -> None:
    """Add ``kapproto fhir``."""
    parser = sub.add_parser(
        "fhir",
        help="export a session document as a FHIR R4 Bundle",
        description="Exit 0 written, 2 unreadable or invalid input. "
        "The document's kind is read from its `schema` (kapproto.session/1).",
    )
    parser.add_argument("document", help="a kapproto.session/1 JSON file")
    parser.add_argument("--output", help="write the Bundle here instead of stdout")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from kapproto._sessions import Session
    from kapproto.exceptions import ValidationError
    from kapproto.fhir import dumps, to_fhir
    from kapproto.serialization import from_dict, schema_of

    data = read_json(args.document)
    schema = schema_of(data)
    if schema is None or schema[0] != "session":
        raise ValidationError(
            f"schema={data.get('schema') if isinstance(data, dict) else None!r}; "
            "kapproto fhir exports a kapproto.session document",
            path="$.schema",
        )
    text = dumps(to_fhir(from_dict(data, Session)))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return EXIT_OK
