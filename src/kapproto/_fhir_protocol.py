"""Protocol -> FHIR R4 ``PlanDefinition`` (type ``clinical-protocol``, status ``active``).

One ``action`` per ``[[doses]]`` entry and one per configured monitoring or
schedule parameter. FHIR has no element for a limit with its provenance, so
each parameter travels twice: as a line of the action's ``description``
(value, source, confidence) and as a complex ``parameter`` extension.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, Final

import attrs

from kapproto._bounds import DoseBound
from kapproto._fhir_common import EXTENSION_BASE, codeable, extension
from kapproto._fhir_session import NAMESPACE
from kapproto._limits import DoseLimits
from kapproto._params import Parameter
from kapproto._protocols import Observation, Protocol, Recheck
from kapproto.units import format_quantity

__all__ = ["protocol_to_fhir"]

_TYPE: Final = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/plan-definition-type",
            "code": "clinical-protocol",
            "display": "Clinical Protocol",
        }
    ],
    "text": "Clinical Protocol",
}


def protocol_to_fhir(protocol: Protocol) -> dict[str, Any]:
    """``protocol`` as a PlanDefinition with its citations and actions."""
    out: dict[str, Any] = {
        "resourceType": "PlanDefinition",
        "id": str(uuid.uuid5(NAMESPACE, f"protocol/{protocol.ref}")),
        "extension": [extension("reference-only", "Boolean", protocol.reference_only)],
        "identifier": [{"system": "http://kapproto.org/fhir/protocol", "value": protocol.id}],
        "version": protocol.version,
        "title": protocol.title,
        "type": _TYPE,
        "status": "active",
    }
    artifacts = [{"type": "citation", "citation": source} for source in protocol.sources]
    for what, ref in (("screening rule set", protocol.ruleset), ("template", protocol.template)):
        if ref is not None:
            artifacts.append({"type": "depends-on", "display": f"{what} {ref}"})
    if artifacts:
        out["relatedArtifact"] = artifacts
    actions = [_dose_action(entry) for entry in protocol.doses]
    for group, owner in (("Monitoring", protocol.monitoring), ("Schedule", protocol.schedule)):
        for key, param in _configured(owner):
            actions.append(_action(f"{group}: {key.replace('_', ' ')}", [(key, param)]))
    if actions:
        out["action"] = actions
    return out


def _dose_action(entry: DoseLimits) -> dict[str, Any]:
    title = f"{entry.medication.display}, {entry.route.value.replace('_', ' ')}"
    notes = []
    if entry.formulations:
        notes.append("formulations: " + ", ".join(sorted(f.value for f in entry.formulations)))
    if entry.basis is not None:
        notes.append(f"limits stated as {entry.basis.value}")
    action = _action(title, _configured(entry), notes)
    action["code"] = [
        codeable(entry.medication.codings, entry.medication.display),
        codeable((entry.route.snomed,), entry.route.snomed.display),
    ]
    return action


def _configured(record: Any) -> list[tuple[str, Parameter[Any]]]:
    """The configured parameters of an attrs record, in field order."""
    fields = attrs.fields(type(record))
    pairs = [(f.name, getattr(record, f.name)) for f in fields]
    return [(name, value) for name, value in pairs if isinstance(value, Parameter)]


def _action(
    title: str, params: list[tuple[str, Parameter[Any]]], notes: list[str] | None = None
) -> dict[str, Any]:
    lines = [*(notes or []), *(_line(k, p) for k, p in params)]
    action: dict[str, Any] = {}
    if params:
        action["extension"] = [_parameter_extension(k, p) for k, p in params]
    action["title"] = title
    action["description"] = "; ".join(lines) + "." if lines else "No limit configured."
    return action


def _line(name: str, param: Parameter[Any]) -> str:
    source = f"source: {param.source}" if param.source else "no source given"
    confidence = (
        f"confidence {param.confidence.value}"
        if param.confidence is not None
        else "confidence not stated"
    )
    return f"{name} {value_text(param.value)} ({source}; {confidence})"


def _parameter_extension(name: str, param: Parameter[Any]) -> dict[str, Any]:
    parts = [
        {"url": "name", "valueCode": name},
        {"url": "value", "valueString": value_text(param.value)},
    ]
    if param.source:
        parts.append({"url": "source", "valueString": param.source})
    if param.confidence is not None:
        parts.append({"url": "confidence", "valueCode": param.confidence.value})
    return {"url": EXTENSION_BASE + "parameter", "extension": parts}


def value_text(value: object) -> str:
    """A parameter's value as people read it (``40 mg or 0.5 mg/kg``, ``required``, ...)."""
    return " ".join(_value_parts(value))


def _value_parts(value: object) -> Iterator[str]:
    if isinstance(value, bool):
        yield "required" if value else "not required"
    elif isinstance(value, DoseBound):
        yield value.describe(weight=None)
    elif isinstance(value, Recheck):
        yield f"{format_quantity(value.at)} ± {format_quantity(value.tolerance)} after"
        yield value.anchor.value.replace("_", " ")
    elif isinstance(value, Observation):
        yield f"{format_quantity(value.duration)} after {value.anchor.value.replace('_', ' ')}"
    elif hasattr(value, "magnitude"):
        yield format_quantity(value)  # type: ignore[arg-type]
    else:
        yield str(value)
