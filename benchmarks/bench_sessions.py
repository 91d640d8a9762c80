"""Session documents: parsing side by side, and check_session throughput.

A typical dosing-session document (3 administrations, 8 vital-sign readings,
1 assessment) is parsed by:

* kapproto: ``from_json(text, Session)`` (unit-checked quantities, aware
  datetimes, duplicate keys and NaN refused, every validation);
* the same shape as attrs + cattrs classes with plain float fields, through
  cattrs' own JSON converters: ``cattrs.preconf.json`` (the standard-library
  parser, the one kapproto may use: its runtime dependencies are attrs,
  cattrs and pint) and ``cattrs.preconf.orjson``;
* the same shape as pydantic v2 models with plain float fields;
* the same shape as msgspec Structs with plain float fields;
* ``orjson.loads`` (no model at all: the floor).

The float models read a copy of the document whose quantities are bare
numbers, so they do strictly less work than kapproto: the ratios show the
price of unit safety. Ratios are given against both attrs + cattrs rows. The
rows marked "part" split kapproto's time into the strict parse
(``kapproto.loads``: duplicate keys and NaN refused, which needs ``json``'s
pairs hook) and building the records from the parsed document.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import cattrs.preconf.json
import cattrs.preconf.orjson
import msgspec
import orjson
import pydantic
from _harness import Group

from kapproto import check_session, from_dict, from_json, get_protocol
from kapproto._sessions import Session
from kapproto.serialization import loads

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sessions" / "im-session.json"


def _document() -> dict[str, Any]:
    doc = json.loads(EXAMPLE.read_text())
    first = doc["administrations"][0]
    doc["administrations"] = [
        {**first, "id": f"a{i + 1}", "start": f"2026-03-02T09:{10 + 12 * i:02d}:00-07:00"}
        for i in range(3)
    ]
    base = dt.datetime.fromisoformat(doc["start"])
    reading = doc["vitals"][0]
    doc["vitals"] = [
        {**reading, "time": (base + dt.timedelta(minutes=15 * i)).isoformat()} for i in range(8)
    ]
    return doc


def _floats(node: Any) -> Any:
    if isinstance(node, dict):
        if set(node) == {"value", "unit"}:
            return node["value"]
        return {k: _floats(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_floats(v) for v in node]
    return node


# --- attrs + cattrs, plain floats ------------------------------------------


@attrs.frozen
class _AAdministration:
    id: str
    medication: str
    route: str
    formulation: str
    basis: str
    amount: float
    start: dt.datetime
    concentration: float | None = None


@attrs.frozen
class _AVitals:
    time: dt.datetime
    systolic: float | None = None
    diastolic: float | None = None
    heart_rate: float | None = None
    spo2: float | None = None


@attrs.frozen
class _AAssessment:
    instrument: str
    time: dt.datetime
    answers: list[int]


@attrs.frozen
class _AProtocol:
    id: str
    version: str


@attrs.frozen
class _ASession:
    schema: str
    id: str
    patient: str
    kind: str
    status: str
    supersedes: str | None
    protocol: _AProtocol
    start: dt.datetime
    end: dt.datetime
    weight: float
    administrations: list[_AAdministration]
    withheld_reason: str | None
    vitals: list[_AVitals]
    assessments: list[_AAssessment]
    adverse_events: list[Any]
    acknowledgements: list[Any]
    discharged_at: dt.datetime
    notes: str


# cattrs' own JSON converters: the stdlib parser (the one kapproto may use) and orjson
_json_conv = cattrs.preconf.json.make_converter()
_orjson_conv = cattrs.preconf.orjson.make_converter()
CATTRS_JSON = "attrs + cattrs, plain floats (preconf.json)"
CATTRS_ORJSON = "attrs + cattrs, plain floats (preconf.orjson)"

# --- pydantic v2, plain floats ----------------------------------------------


class _PAdministration(pydantic.BaseModel):
    id: str
    medication: str
    route: str
    formulation: str
    basis: str
    amount: float
    start: dt.datetime
    concentration: float | None = None


class _PVitals(pydantic.BaseModel):
    time: dt.datetime
    systolic: float | None = None
    diastolic: float | None = None
    heart_rate: float | None = None
    spo2: float | None = None


class _PAssessment(pydantic.BaseModel):
    instrument: str
    time: dt.datetime
    answers: list[int]


class _PProtocol(pydantic.BaseModel):
    id: str
    version: str


class _PSession(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)
    schema_: str = pydantic.Field(alias="schema")
    id: str
    patient: str
    kind: str
    status: str
    supersedes: str | None
    protocol: _PProtocol
    start: dt.datetime
    end: dt.datetime
    weight: float
    administrations: list[_PAdministration]
    withheld_reason: str | None
    vitals: list[_PVitals]
    assessments: list[_PAssessment]
    adverse_events: list[Any]
    acknowledgements: list[Any]
    discharged_at: dt.datetime
    notes: str


# --- msgspec, plain floats ---------------------------------------------------


class _MAdministration(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    medication: str
    route: str
    formulation: str
    basis: str
    amount: float
    start: dt.datetime
    concentration: float | None = None


class _MVitals(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    time: dt.datetime
    systolic: float | None = None
    diastolic: float | None = None
    heart_rate: float | None = None
    spo2: float | None = None


class _MAssessment(msgspec.Struct, frozen=True):
    instrument: str
    time: dt.datetime
    answers: list[int]


class _MProtocol(msgspec.Struct, frozen=True):
    id: str
    version: str


class _MSession(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename={"schema_": "schema"}
):
    schema_: str
    id: str
    patient: str
    kind: str
    status: str
    supersedes: str | None
    protocol: _MProtocol
    start: dt.datetime
    end: dt.datetime
    weight: float
    administrations: list[_MAdministration]
    withheld_reason: str | None
    vitals: list[_MVitals]
    assessments: list[_MAssessment]
    adverse_events: list[Any]
    acknowledgements: list[Any]
    discharged_at: dt.datetime
    notes: str


def groups() -> list[Group]:
    doc = _document()
    text = json.dumps(doc)
    float_doc = _floats(copy.deepcopy(doc))
    float_text = json.dumps(float_doc)
    decoder = msgspec.json.Decoder(_MSession)
    parsed = loads(text)
    float_parsed = json.loads(float_text)
    # warm up, and check every parser accepts its document
    session = from_json(text, Session)
    assert _json_conv.loads(float_text, _ASession) == _orjson_conv.loads(float_text, _ASession)
    _PSession.model_validate_json(float_text)
    decoder.decode(float_text)
    protocol = get_protocol("im-kap")
    check_session(session, protocol)
    cases: dict[str, Callable[[], object]] = {
        "orjson.loads (no model: the floor)": lambda: orjson.loads(text),
        "msgspec Structs, plain floats": lambda: decoder.decode(float_text),
        "pydantic v2, plain floats": lambda: _PSession.model_validate_json(float_text),
        CATTRS_JSON: lambda: _json_conv.loads(float_text, _ASession),
        CATTRS_ORJSON: lambda: _orjson_conv.loads(float_text, _ASession),
        "kapproto from_json (unit-checked)": lambda: from_json(text, Session),
        # the parts, to show where kapproto's time goes
        "  part: json.loads (stdlib, no checks)": lambda: json.loads(text),
        "  part: kapproto.loads (strict JSON)": lambda: loads(text),
        "  part: kapproto from_dict (parsed doc)": lambda: from_dict(parsed, Session),
        "  part: attrs + cattrs structure (parsed doc)": lambda: _json_conv.structure(
            float_parsed, _ASession
        ),
    }
    parse = Group(
        "parse a dosing-session document (3 administrations, 8 vitals, 1 assessment)",
        cases,
        baseline=CATTRS_JSON,
        also=CATTRS_ORJSON,
        unit="document",
    )
    check = Group(
        "check_session against im-kap (compiled protocol)",
        {"check_session": lambda: check_session(session, protocol)},
        baseline="check_session",
        unit="session",
    )
    return [parse, check]
