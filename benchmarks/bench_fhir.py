"""FHIR export: kapproto's plain-dict Bundle next to fhir.resources models, side by side.

The example IM session (``examples/sessions/im-session.json``) is exported as
a FHIR R4 ``collection`` Bundle and turned into JSON text by:

* kapproto: ``json.dumps(to_fhir(session))`` (the baseline);
* kapproto: ``kapproto.fhir.dumps(to_fhir(session))`` (sorted keys, indented:
  what ``kapproto fhir`` writes);
* fhir.resources (R4B): the same Bundle built as models (``Bundle`` of
  ``BundleEntry`` with each resource's model class, from the resources'
  dicts, mapped once beforehand) and ``.model_dump_json()``: the cost of the
  models alone, without the mapping from kapproto records;
* kapproto ``to_fhir`` then fhir.resources models and ``.model_dump_json()``:
  what an app that wants typed FHIR models pays in all.

Before timing, the fhir.resources JSON is checked to hold the same Bundle as
kapproto's.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from _harness import Group
from fhir.resources.R4B.bundle import Bundle, BundleEntry

from kapproto import from_json
from kapproto._sessions import Session
from kapproto.fhir import dumps, to_fhir

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sessions" / "im-session.json"


def _model(resource_type: str) -> Any:
    module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
    return getattr(module, resource_type)


def _models(bundle: dict[str, Any]) -> Bundle:
    """The Bundle as fhir.resources models, each resource built with its own class."""
    entries = [
        BundleEntry(
            fullUrl=e["fullUrl"],
            resource=_model(e["resource"]["resourceType"])(**e["resource"]),
        )
        for e in bundle["entry"]
    ]
    return Bundle(id=bundle["id"], type=bundle["type"], entry=entries)


def groups() -> list[Group]:
    session = from_json(EXAMPLE.read_text(encoding="utf-8"), Session)
    mapped = to_fhir(session)
    ours = json.loads(json.dumps(mapped))
    theirs = json.loads(_models(mapped).model_dump_json())
    if ours != theirs:  # the comparison is only fair if both give the same Bundle
        raise SystemExit("fhir.resources gives a different Bundle than kapproto")
    count = len(mapped["entry"])
    return [
        Group(
            f"session -> FHIR Bundle JSON text (example IM session, {count} entries)",
            {
                "kapproto to_fhir + json.dumps": lambda: json.dumps(to_fhir(session)),
                "kapproto to_fhir + fhir.dumps (sorted)": lambda: dumps(to_fhir(session)),
                "fhir.resources models + model_dump_json": lambda: _models(
                    mapped
                ).model_dump_json(),
                "to_fhir + fhir.resources + model_dump_json": lambda: _models(
                    to_fhir(session)
                ).model_dump_json(),
            },
            baseline="kapproto to_fhir + json.dumps",
            unit="bundle",
        )
    ]
