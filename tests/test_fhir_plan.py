"""Tests for kapproto._fhir_plan: an IntegrationPlan as a FHIR R4 CarePlan."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapproto import IntegrationPlan, PlanTemplate, get_template
from kapproto.exceptions import ValidationError
from kapproto.fhir import EXTENSION_BASE, dumps, to_fhir, validate
from kapproto.serialization import from_json, to_json
from kapproto.testing import plan_templates

Check = Callable[[dict[str, Any]], None]
MST = dt.timezone(dt.timedelta(hours=-7))
D0 = dt.datetime(2026, 3, 2, 9, tzinfo=MST)


dosing_lists = st.lists(st.integers(min_value=1, max_value=21), min_size=1, max_size=5).map(
    lambda gaps: [D0 + dt.timedelta(days=sum(gaps[:i])) for i in range(len(gaps))]
)


def weekly_plan() -> IntegrationPlan:
    """The built-in kap-weekly-3 template for three weekly dosing sessions in Denver."""
    dosing = [D0 + dt.timedelta(days=7 * i) for i in range(3)]
    return get_template("kap-weekly-3").instantiate(
        dosing=dosing, timezone="America/Denver", id="course-1"
    )


def test_weekly_plan_validates(fhir_valid: Check) -> None:
    """The built-in weekly plan's CarePlan validates with both libraries and kapproto's checks."""
    fhir_valid(to_fhir(weekly_plan()))


def test_careplan_header() -> None:
    """Status active, intent plan, the title, and a display-only subject without a patient."""
    r = to_fhir(weekly_plan())
    assert ("CarePlan", "active", "plan", weekly_plan().title) == (
        r["resourceType"],
        r["status"],
        r["intent"],
        r["title"],
    )
    assert "reference" not in r["subject"]


def test_patient_gives_subject_reference() -> None:
    """patient= makes the subject a Patient reference."""
    assert {"reference": "Patient/p1"} == to_fhir(weekly_plan(), patient="p1")["subject"]


def test_activity_detail_per_planned_activity() -> None:
    """Each planned activity gives a scheduled detail with its window, kind, code and instruments."""
    plan = weekly_plan()
    details = [a["detail"] for a in to_fhir(plan)["activity"]]
    first, activity = details[0], plan.activities[0]
    assert (
        "scheduled",
        {"start": activity.earliest.isoformat(), "end": activity.latest.isoformat()},
        activity.title,
        "Appointment",
    ) == (first["status"], first["scheduledPeriod"], first["code"]["text"], first["kind"])
    assert "Instruments: PHQ-9, GAD-7." in first["description"]
    assert len(plan.activities) + len(plan.dosing) == len(details)


def test_dosing_sessions_are_appointments_at_their_time() -> None:
    """The dosing sessions follow the planned activities, each starting at its time."""
    plan = weekly_plan()
    details = [a["detail"] for a in to_fhir(plan)["activity"]][len(plan.activities) :]
    assert [{"start": t.isoformat()} for t in plan.dosing] == [
        d["scheduledPeriod"] for d in details
    ]
    assert ["Dosing session 1", "Dosing session 2", "Dosing session 3"] == [
        d["code"]["text"] for d in details
    ]


def test_step_kinds_map_to_activity_kinds() -> None:
    """Sessions are Appointments, assessments Tasks; the step id travels as an extension."""
    plan = weekly_plan()
    details = [a["detail"] for a in to_fhir(plan)["activity"]][: len(plan.activities)]
    assert [
        ("Task" if a.kind.value == "assessment" else "Appointment") for a in plan.activities
    ] == [d["kind"] for d in details]
    step_ids = [
        e["valueString"]
        for d in details
        for e in d["extension"]
        if e["url"] == EXTENSION_BASE + "step-id"
    ]
    assert [a.step_id for a in plan.activities] == step_ids


@settings(max_examples=30, deadline=None)
@given(plan_templates(), dosing_lists)
def test_generated_kinds_and_windows(template: PlanTemplate, dosing: list[dt.datetime]) -> None:
    """For generated plans, assessments are Tasks and each window is the scheduledPeriod."""
    plan = template.instantiate(dosing=dosing)
    details = [a["detail"] for a in to_fhir(plan)["activity"]]
    assert [
        (
            "Task" if a.kind.value == "assessment" else "Appointment",
            {"start": a.earliest.isoformat(), "end": a.latest.isoformat()},
        )
        for a in plan.activities
    ] == [(d["kind"], d["scheduledPeriod"]) for d in details[: len(plan.activities)]]


def test_period_covers_every_window() -> None:
    """The CarePlan period runs from the earliest window start to the latest window end."""
    plan = weekly_plan()
    period = to_fhir(plan)["period"]
    starts = [plan.course_start, *(a.earliest for a in plan.activities)]
    assert min(starts, key=dt.datetime.timestamp).isoformat() == period["start"]
    assert (
        max(plan.activities, key=lambda a: a.latest.timestamp()).latest.isoformat()
        == (period["end"])
    )


def test_conflicts_become_notes() -> None:
    """Every plan conflict's message is a CarePlan note."""
    template = get_template("kap-weekly-3")
    plan = template.instantiate(dosing=[D0, D0 + dt.timedelta(days=1)], timezone="America/Denver")
    assert 1 == len(plan.conflicts)
    assert [c.message for c in plan.conflicts] == [n["text"] for n in to_fhir(plan)["note"]]


def test_validate_flags_activity_status_and_kind() -> None:
    """kapproto.fhir.validate names a non-R4 activity status and kind by their paths."""
    r = to_fhir(weekly_plan())
    r["activity"][1]["detail"]["status"] = "planned"
    r["activity"][2]["detail"]["kind"] = "Session"
    with pytest.raises(ValidationError) as info:
        validate(r)
    assert ["$.activity[1].detail.status", "$.activity[2].detail.kind"] == sorted(
        path for path, _ in info.value.problems
    )


def test_json_round_trip_gives_same_careplan() -> None:
    """A plan read back from its JSON document gives byte-identical FHIR."""
    plan = weekly_plan()
    again = from_json(to_json(plan), IntegrationPlan)
    assert dumps(to_fhir(plan)) == dumps(to_fhir(again))


@settings(max_examples=40, deadline=None)
@given(plan_templates(), dosing_lists, st.sampled_from([None, "America/Denver", "UTC"]))
def test_generated_plans_validate(
    fhir_valid: Check, template: PlanTemplate, dosing: list[dt.datetime], zone: str | None
) -> None:
    """Every CarePlan of a generated template validates and is byte-identical on a second run."""
    plan = template.instantiate(dosing=dosing, timezone=zone)
    resource = to_fhir(plan)
    fhir_valid(resource)
    assert dumps(resource) == dumps(to_fhir(plan))
    assert len(plan.activities) + len(dosing) == len(resource["activity"])
