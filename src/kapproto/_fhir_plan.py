"""IntegrationPlan -> FHIR R4 ``CarePlan`` (status ``active``, intent ``plan``).

Each planned activity becomes one ``activity.detail`` (status ``scheduled``,
``scheduledPeriod`` from its window); each dosing session time becomes an
``Appointment`` activity starting then. Fields FHIR has no element for travel
as kapproto extensions.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Final

from kapproto._activities import PlannedActivity, StepKind
from kapproto._fhir_common import extension, fhir_datetime, to_quantity
from kapproto._fhir_records import UNIDENTIFIED_SUBJECT
from kapproto._fhir_session import NAMESPACE
from kapproto._plan_render import instrument_names
from kapproto._plans import IntegrationPlan

__all__ = ["plan_to_fhir"]

# R4 CarePlanActivityKind: a session is an appointment, an assessment a task.
_KIND: Final = {
    StepKind.PREPARATION: "Appointment",
    StepKind.INTEGRATION: "Appointment",
    StepKind.FOLLOW_UP: "Appointment",
    StepKind.ASSESSMENT: "Task",
}
_STEP_SYSTEM: Final = "http://kapproto.org/fhir/CodeSystem/plan-step-kind"


def plan_to_fhir(
    plan: IntegrationPlan, *, subject: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``plan`` as a CarePlan; ``subject`` defaults to an unidentified patient."""
    out: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": str(uuid.uuid5(NAMESPACE, f"plan/{plan.key}")),
        "extension": [
            extension("plan-template", "String", str(plan.template)),
            extension("plan-key", "String", plan.key),
        ],
        "status": "active",
        "intent": "plan",
        "title": plan.title,
        "subject": dict(subject) if subject is not None else dict(UNIDENTIFIED_SUBJECT),
    }
    if plan.timezone is not None:
        out["extension"].append(extension("timezone", "String", plan.timezone.key))
    first = min(
        (plan.course_start, *(a.earliest for a in plan.activities)), key=lambda t: t.timestamp()
    )
    out["period"] = {"start": fhir_datetime(first)}
    if plan.activities:
        last = max(plan.activities, key=lambda a: a.latest.timestamp())
        out["period"]["end"] = fhir_datetime(last.latest)
    activities = [_activity(a) for a in plan.activities]
    activities += [_dosing(n, moment) for n, moment in enumerate(plan.dosing, start=1)]
    if activities:
        out["activity"] = activities
    if plan.conflicts:
        out["note"] = [{"text": conflict.message} for conflict in plan.conflicts]
    return out


def _activity(activity: PlannedActivity) -> dict[str, Any]:
    extensions = [
        extension("step-id", "String", activity.step_id),
        extension("anchor-time", "DateTime", fhir_datetime(activity.anchor_time)),
        extension("required", "Boolean", activity.required),
    ]
    if activity.dose_number is not None:
        extensions.append(extension("dose-number", "PositiveInt", activity.dose_number))
    if activity.duration is not None:
        extensions.append(extension("duration", "Quantity", to_quantity(activity.duration)))
    if activity.source:
        extensions.append(extension("timing-source", "String", activity.source))
    description = [activity.label + "."]
    if activity.instruments:
        description.append(f"Instruments: {instrument_names(activity.instruments)}.")
    if activity.prompts:
        description.append("Prompts: " + "; ".join(activity.prompts) + ".")
    detail: dict[str, Any] = {
        "extension": extensions,
        "kind": _KIND[activity.kind],
        "code": {
            "coding": [{"system": _STEP_SYSTEM, "code": activity.kind.value}],
            "text": activity.title,
        },
        "status": "scheduled",
        "scheduledPeriod": {
            "start": fhir_datetime(activity.earliest),
            "end": fhir_datetime(activity.latest),
        },
        "description": " ".join(description),
    }
    return {"detail": detail}


def _dosing(number: int, moment: Any) -> dict[str, Any]:
    return {
        "detail": {
            "extension": [extension("dose-number", "PositiveInt", number)],
            "kind": "Appointment",
            "code": {
                "coding": [{"system": _STEP_SYSTEM, "code": "dosing"}],
                "text": f"Dosing session {number}",
            },
            "status": "scheduled",
            "scheduledPeriod": {"start": fhir_datetime(moment)},
            "description": f"Dosing session {number}.",
        }
    }
