"""Session -> FHIR R4 ``Bundle`` (type ``collection``).

Every entry's ``fullUrl`` is a ``urn:uuid:`` made by uuid5 of a fixed
namespace and the record's ids, so the same session gives the same bundle.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

from kapproto._codes import LOINC
from kapproto._courses import Course
from kapproto._fhir_common import (
    VITAL_SIGNS_CATEGORY,
    codeable,
    extension,
    fhir_datetime,
    loinc,
    to_quantity,
)
from kapproto._fhir_records import administration_to_fhir, vitals_to_fhir
from kapproto._sessions import AdverseEvent, Session, SessionStatus
from kapproto.instruments import InstrumentResponse, get_instrument

__all__ = ["NAMESPACE", "course_to_fhir", "session_to_fhir"]

NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "http://kapproto.org/fhir")
"""The uuid5 namespace of every ``urn:uuid:`` kapproto makes."""

_ENCOUNTER_CLASS: Final = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
    "code": "AMB",
    "display": "ambulatory",
}
_SURVEY: Final = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey",
            "display": "Survey",
        }
    ],
    "text": "Survey",
}
_AE_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-"
_OUTCOME_CODES: Final = {"resolved_with_sequelae": "resolvedWithSequelae"}


def _urn(session: Session, *parts: object) -> str:
    name = "/".join(str(p) for p in (session.patient, session.id, *parts))
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, name)}"


def _entry(full_url: str, resource: dict[str, Any]) -> dict[str, Any]:
    resource["id"] = full_url.removeprefix("urn:uuid:")
    return {"fullUrl": full_url, "resource": resource}


def session_to_fhir(session: Session) -> dict[str, Any]:
    """``session`` as a ``collection`` Bundle: Encounter first, then every record."""
    encounter_url = _urn(session, "encounter")
    subject = {"reference": f"Patient/{session.patient}"}
    encounter = {"reference": encounter_url}
    entries = [_entry(encounter_url, _encounter(session, subject))]
    for a in session.administrations:
        resource = administration_to_fhir(a, subject=subject, context=encounter)
        entries.append(_entry(_urn(session, "administration", a.id), resource))
    for i, v in enumerate(session.vitals):
        for obs in vitals_to_fhir(v, subject=subject, encounter=encounter):
            code = obs["code"]["coding"][0]["code"]
            entries.append(_entry(_urn(session, "vitals", i, code), obs))
    if session.weight is not None:
        weight = {
            "resourceType": "Observation",
            "status": "final",
            "category": [VITAL_SIGNS_CATEGORY],
            "code": codeable(loinc("body_weight"), "Body weight"),
            "subject": subject,
            "encounter": encounter,
            "effectiveDateTime": fhir_datetime(session.start),
            "valueQuantity": to_quantity(session.weight),
        }
        entries.append(_entry(_urn(session, "weight"), weight))
    for i, response in enumerate(session.assessments):
        qr_url = _urn(session, "assessment", i, "response")
        entries.append(_entry(qr_url, _questionnaire_response(response, subject, encounter)))
        score = _score(response, subject, encounter, qr_url)
        entries.append(_entry(_urn(session, "assessment", i, "score"), score))
    for i, event in enumerate(session.adverse_events):
        entries.append(
            _entry(_urn(session, "adverse-event", i), _adverse_event(event, subject, encounter))
        )
    return {
        "resourceType": "Bundle",
        "id": _urn(session, "bundle").removeprefix("urn:uuid:"),
        "type": "collection",
        "entry": entries,
    }


def course_to_fhir(course: Course) -> dict[str, Any]:
    """Every effective session's entries in one ``collection`` Bundle, sessions in order.

    Sessions entered in error or superseded are left out; each entry keeps the
    ``fullUrl`` it has in its session's own bundle.
    """
    name = f"course/{course.patient}/{course.id}"
    out: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(NAMESPACE, name)),
        "type": "collection",
    }
    entries = [e for s in course.effective_sessions for e in session_to_fhir(s)["entry"]]
    if entries:  # FHIR JSON has no empty arrays
        out["entry"] = entries
    return out


def _encounter(session: Session, subject: Mapping[str, Any]) -> dict[str, Any]:
    status = "entered-in-error" if session.status is SessionStatus.ENTERED_IN_ERROR else "finished"
    return {
        "resourceType": "Encounter",
        "extension": [extension("session-id", "String", session.id)],
        "status": status,
        "class": dict(_ENCOUNTER_CLASS),
        "type": [{"text": f"KAP {session.kind.value.replace('_', ' ')} session"}],
        "subject": dict(subject),
        "period": {"start": fhir_datetime(session.start), "end": fhir_datetime(session.end)},
    }


def _answer(value: Any) -> list[dict[str, Any]]:
    values: Sequence[Any] = value if isinstance(value, list | tuple) else [value]
    out: list[dict[str, Any]] = []
    for v in values:
        if isinstance(v, bool):
            out.append({"valueBoolean": v})
        elif isinstance(v, int):
            out.append({"valueInteger": v})
        else:
            out.append({"valueString": str(v)})
    return out


def _questionnaire_response(
    response: InstrumentResponse, subject: Mapping[str, Any], encounter: Mapping[str, Any]
) -> dict[str, Any]:
    instrument = get_instrument(response.instrument)
    answers = response.answers
    keyed = (
        dict(answers)
        if isinstance(answers, Mapping)
        else dict(zip(instrument.item_ids, answers, strict=False))
    )
    items = [
        {"linkId": item_id, "answer": _answer(keyed[item_id])}
        for item_id in instrument.item_ids
        if keyed.get(item_id) is not None
    ]
    out: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"http://kapproto.org/fhir/Questionnaire/{instrument.id}",
        "status": "completed",
        "subject": dict(subject),
        "encounter": dict(encounter),
        "authored": fhir_datetime(response.time),
    }
    if items:
        out["item"] = items
    return out


def _score(
    response: InstrumentResponse,
    subject: Mapping[str, Any],
    encounter: Mapping[str, Any],
    qr_url: str,
) -> dict[str, Any]:
    instrument = get_instrument(response.instrument)
    total = instrument.loinc_total
    code: dict[str, Any]
    if total is not None and total.system == LOINC:
        code = codeable((total,), f"{instrument.name} total score")
    else:  # no confirmed total-score code: text only, never the panel code
        code = {"text": f"{instrument.name} total score"}
    out: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [_SURVEY],
        "code": code,
        "subject": dict(subject),
        "encounter": dict(encounter),
        "effectiveDateTime": fhir_datetime(response.time),
    }
    value = response.score().total
    if value is None:
        out["dataAbsentReason"] = {"text": f"{instrument.name} has no numeric total"}
    else:
        out["valueInteger"] = value
    out["derivedFrom"] = [{"reference": qr_url}]
    return out


def _adverse_event(
    event: AdverseEvent, subject: Mapping[str, Any], encounter: Mapping[str, Any]
) -> dict[str, Any]:
    def coded(kind: str, code: str) -> dict[str, Any]:
        return {"coding": [{"system": _AE_SYSTEM + kind, "code": code}], "text": code}

    out: dict[str, Any] = {"resourceType": "AdverseEvent"}
    if event.action_taken is not None:
        out["extension"] = [extension("action-taken", "String", event.action_taken)]
    out.update(
        {
            "actuality": "actual",
            "event": {"text": event.term},
            "subject": dict(subject),
            "encounter": dict(encounter),
            "date": fhir_datetime(event.onset),
            "seriousness": coded("seriousness", event.seriousness.value.replace("_", "-")),
            "severity": coded("severity", event.severity.value),
            "outcome": coded(
                "outcome", _OUTCOME_CODES.get(event.outcome.value, event.outcome.value)
            ),
        }
    )
    return out
