"""Tests for kapproto._fhir_protocol: a Protocol as a FHIR R4 PlanDefinition."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapproto import Catalog, Protocol, get_protocol
from kapproto._params import Parameter
from kapproto._protocols import Monitoring, read_document
from kapproto.fhir import EXTENSION_BASE, dumps, to_fhir
from kapproto.testing import dose_limits

Check = Callable[[dict[str, Any]], None]
BUILTIN = sorted(Catalog.builtin().protocols.entries.items())
CLINIC = (
    Path(__file__).parent.parent / "examples" / "custom_protocol" / "clinic" / "clinic-kap.toml"
)


def parameters(action: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``parameter`` extensions of an action, each as ``{name: value}`` of its parts."""
    return [
        {
            part["url"]: next(v for k, v in part.items() if k.startswith("value"))
            for part in ext["extension"]
        }
        for ext in action.get("extension", [])
        if ext["url"] == EXTENSION_BASE + "parameter"
    ]


@pytest.mark.parametrize("key", [k for k, _ in BUILTIN], ids=lambda k: f"{k[0]}@{k[1]}")
def test_builtin_protocols_validate(fhir_valid: Check, key: tuple[str, str]) -> None:
    """Every built-in protocol's PlanDefinition validates with both libraries and kapproto."""
    fhir_valid(to_fhir(get_protocol(*key)))


def test_header_type_status_and_citations() -> None:
    """Status active, type clinical-protocol, the title, and one citation per source."""
    protocol = get_protocol("im-kap")
    r = to_fhir(protocol)
    assert ("active", "clinical-protocol", protocol.title, protocol.version) == (
        r["status"],
        r["type"]["coding"][0]["code"],
        r["title"],
        r["version"],
    )
    assert list(protocol.sources) == [
        a["citation"] for a in r["relatedArtifact"] if a["type"] == "citation"
    ]


def test_one_action_per_dose_entry_and_parameter() -> None:
    """Dose entries come first, then one action per configured monitoring or schedule parameter."""
    protocol = get_protocol("im-kap")
    actions = to_fhir(protocol)["action"]
    monitoring = [
        name
        for owner in (protocol.monitoring, protocol.schedule)
        for name, value in vars_of(owner)
        if value is not None
    ]
    assert len(protocol.doses) + len(monitoring) == len(actions)
    assert [f"{a.medication.display}, {a.route.value}" for a in protocol.doses] == [
        a["title"] for a in actions[: len(protocol.doses)]
    ]
    assert monitoring == [p["name"] for a in actions[len(protocol.doses) :] for p in parameters(a)]


def vars_of(record: Any) -> list[tuple[str, Any]]:
    """``(field, value)`` of an attrs record in field order."""
    import attrs

    return [(f.name, getattr(record, f.name)) for f in attrs.fields(type(record))]


def test_parameter_source_and_confidence_travel() -> None:
    """A limit's value, source and confidence are in the extension and the description."""
    protocol = get_protocol("esketamine-trd")
    entry = protocol.doses[0]
    action = to_fhir(protocol)["action"][0]
    found = {p["name"]: p for p in parameters(action)}
    param = entry.session_max
    assert param is not None
    expected = {"name": "session_max", "value": found["session_max"]["value"]}
    if param.source:
        expected["source"] = param.source
    if param.confidence is not None:
        expected["confidence"] = param.confidence.value
    assert expected == found["session_max"]
    assert f"source: {param.source}" in action["description"]


def test_route_and_medication_codes() -> None:
    """A dose action is coded with the medication and the SNOMED route."""
    protocol = get_protocol("im-kap")
    codes = to_fhir(protocol)["action"][0]["code"]
    assert "78421000" == codes[1]["coding"][0]["code"]


def test_protocol_file_validates(fhir_valid: Check) -> None:
    """A clinic's own TOML protocol file gives a valid PlanDefinition, the same twice."""
    protocol = Protocol.from_dict(read_document(CLINIC))
    fhir_valid(to_fhir(protocol))
    assert dumps(to_fhir(protocol)) == dumps(to_fhir(Protocol.from_dict(read_document(CLINIC))))


def test_unsourced_parameter_says_so() -> None:
    """A parameter without source or confidence says so in the text and has no such parts."""
    bare = Protocol(
        id="bare", version="1", title="Bare", monitoring=Monitoring(predose_bp=Parameter(True))
    )
    action = to_fhir(bare)["action"][0]
    assert ("Monitoring: predose bp", [{"name": "predose_bp", "value": "required"}]) == (
        action["title"],
        parameters(action),
    )
    assert "no source given; confidence not stated" in action["description"]


@st.composite
def protocols(draw: st.DrawFn) -> Protocol:
    """Protocols of generated dose entries with a built-in protocol's monitoring and schedule."""
    base = draw(st.sampled_from([p for _, p in BUILTIN]))
    words = st.text("abcdefghijklmnopqrstuvwxyz -", min_size=1, max_size=20).filter(str.strip)
    return Protocol(
        id=draw(words),
        version=draw(st.sampled_from(["1", "2.0"])),
        title=draw(words),
        sources=tuple(draw(st.lists(words, max_size=3))),
        doses=tuple(draw(st.lists(dose_limits(), max_size=3))),
        monitoring=base.monitoring,
        schedule=base.schedule,
    )


@settings(max_examples=40, deadline=None)
@given(protocols())
def test_generated_protocols_validate(fhir_valid: Check, protocol: Protocol) -> None:
    """Every generated protocol's PlanDefinition validates and is byte-identical on a second run."""
    resource = to_fhir(protocol)
    fhir_valid(resource)
    assert dumps(resource) == dumps(to_fhir(protocol))
    assert len(protocol.doses) == sum(1 for a in resource.get("action", []) if "code" in a)
