"""Sessions and courses: what is refused, what is kept, and the JSON shape."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from kapproto import (
    Course,
    Session,
    SessionKind,
    SessionStatus,
    ValidationError,
    from_dict,
    from_json,
    to_dict,
    to_json,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "sessions"


def im_session() -> dict[str, Any]:
    return json.loads((EXAMPLES / "im-session.json").read_text())


def problems(data: dict[str, Any], cls: type = Session) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        from_dict(data, cls)
    return dict(info.value.problems)


def test_example_session_round_trips() -> None:
    """The IM example session parses and its canonical JSON round-trips unchanged."""
    session = from_json((EXAMPLES / "im-session.json").read_text(), Session)
    assert session == from_json(to_json(session), Session)
    assert to_dict(session)["schema"] == "kapproto.session/1"
    assert session.kind is SessionKind.DOSING
    assert session.status is SessionStatus.FINAL


def test_canonical_json_matches_the_design_shape() -> None:
    """Keys come out in DESIGN.md's order and quantities in canonical UCUM units."""
    out = to_dict(from_dict(im_session(), Session))
    assert list(out)[:9] == [
        "schema",
        "id",
        "patient",
        "kind",
        "status",
        "supersedes",
        "protocol",
        "start",
        "end",
    ]
    assert out["weight"] == {"value": 80, "unit": "kg"}
    assert out["vitals"][0]["systolic"] == {"value": 128, "unit": "mm[Hg]"}


def test_optional_fields_may_be_omitted() -> None:
    """Status defaults to final, lists to empty, an administration id to its position."""
    data = im_session()
    for key in (
        "status",
        "supersedes",
        "assessments",
        "adverse_events",
        "acknowledgements",
        "notes",
    ):
        del data[key]
    del data["administrations"][0]["id"]
    session = from_dict(data, Session)
    assert session.status is SessionStatus.FINAL
    assert session.assessments == ()
    assert session.administrations[0].id == "a1"


def test_end_before_start_is_refused() -> None:
    """A session that ends before it starts is malformed."""
    data = im_session()
    data["end"] = "2026-03-02T08:00:00-07:00"
    found = problems(data)
    assert "$.end" in found
    assert "before start" in found["$.end"]


def test_records_outside_the_session_are_refused() -> None:
    """Administrations, vitals, assessments and discharge lie inside start..end."""
    data = im_session()
    data["vitals"][1]["time"] = "2026-03-02T12:00:00-07:00"
    data["assessments"][0]["time"] = "2026-03-01T09:00:00-07:00"
    data["discharged_at"] = "2026-03-02T12:30:00-07:00"
    found = problems(data)
    assert {"$.vitals[1].time", "$.assessments[0].time", "$.discharged_at"} <= set(found)


def test_naive_datetime_is_refused_with_its_path() -> None:
    """A time without an offset is an input error naming the field."""
    data = im_session()
    data["start"] = "2026-03-02T09:00:00"
    assert "naive" in problems(data)["$.start"]


def test_dosing_session_without_dose_needs_a_reason() -> None:
    """A dosing session with no administration must say why the dose was withheld."""
    data = im_session()
    data["administrations"] = []
    assert "$.withheld_reason" in problems(data)
    data["withheld_reason"] = "BP 182/104 before dosing"
    assert from_dict(data, Session).withheld_reason == "BP 182/104 before dosing"


def test_clinically_wrong_but_possible_is_kept() -> None:
    """A troche recorded by the IM route is stored as recorded (a finding, not an error)."""
    data = im_session()
    data["administrations"][0].update(formulation="troche", concentration=None)
    session = from_dict(data, Session)
    assert session.administrations[0].formulation.value == "troche"


def test_impossible_weight_is_refused() -> None:
    """An 800 kg patient is a typo, not a record."""
    data = im_session()
    data["weight"] = {"value": 800, "unit": "kg"}
    assert "$.weight" in problems(data)


def test_amended_needs_supersedes_and_not_itself() -> None:
    """A correction names what it corrects, and never itself."""
    data = im_session()
    data["status"] = "amended"
    assert "$.supersedes" in problems(data)
    data["supersedes"] = data["id"]
    assert "itself" in problems(data)["$.supersedes"]


def test_unknown_acknowledgement_code_is_refused() -> None:
    """An acknowledgement must name a catalogued finding code."""
    data = im_session()
    data["acknowledgements"] = [
        {"code": "monitoring.nonsense", "role": "prescriber", "reason": "x", "time": data["start"]}
    ]
    assert any("finding code" in m for m in problems(data).values())


def test_unknown_key_and_unknown_schema_are_refused() -> None:
    """Unknown keys are errors; a newer schema version is refused by name."""
    data = im_session()
    data["colour"] = "blue"
    assert "$.colour" in problems(data)
    data = im_session()
    data["schema"] = "kapproto.session/9"
    assert "kapproto.session/9" in problems(data)["$.schema"]


def course_doc() -> dict[str, Any]:
    first = im_session()
    second = copy.deepcopy(first)
    second["id"] = "s-002"
    shift = dt.timedelta(days=7)
    for key in ("start", "end", "discharged_at"):
        second[key] = (dt.datetime.fromisoformat(first[key]) + shift).isoformat()
    for item in second["administrations"]:
        item["start"] = (dt.datetime.fromisoformat(item["start"]) + shift).isoformat()
    for item in second["vitals"] + second["assessments"]:
        item["time"] = (dt.datetime.fromisoformat(item["time"]) + shift).isoformat()
    return {
        "schema": "kapproto.course/1",
        "id": "c-001",
        "patient": "p-001",
        "protocol": {"id": "im-kap", "version": "1"},
        "timezone": "America/Denver",
        "screenings": [],
        "sessions": [first, second],
    }


def test_course_round_trips_and_answers_intervals() -> None:
    """A course round-trips and reports the interval and cumulative exposure."""
    course = from_dict(course_doc(), Course)
    assert course == from_json(to_json(course), Course)
    assert course.intervals() == [dt.timedelta(days=7)]
    assert course.cumulative_exposure()["ketamine"].magnitude == 80
    assert course.day_of(course.sessions[1].start) == 8


def test_course_refuses_unordered_sessions_and_foreign_patients() -> None:
    """Sessions are ordered by start and belong to the course's patient."""
    doc = course_doc()
    doc["sessions"].reverse()
    doc["sessions"][0]["patient"] = "p-999"
    found = problems(doc, Course)
    assert "$.sessions[1].start" in found
    assert "$.sessions[0].patient" in found


def test_superseded_and_entered_in_error_sessions_do_not_count() -> None:
    """Corrections replace what they supersede; entries in error drop out."""
    doc = course_doc()
    fix = copy.deepcopy(doc["sessions"][1])
    fix.update(id="s-002b", status="amended", supersedes="s-002")
    doc["sessions"].append(fix)
    course = from_dict(doc, Course)
    assert [s.id for s in course.effective_sessions] == ["s-001", "s-002b"]
    doc["sessions"][0]["status"] = "entered_in_error"
    assert [s.id for s in from_dict(doc, Course).dosing_sessions] == ["s-002b"]


def test_unknown_timezone_is_refused() -> None:
    """A course's timezone must be an IANA zone."""
    doc = course_doc()
    doc["timezone"] = "Mars/Olympus"
    assert "$.timezone" in problems(doc, Course)


def test_facts_from_session_takes_predose_vitals_and_latest_scores() -> None:
    """Screening facts come from the last reading before the dose and the latest score."""
    from kapproto import facts_from_session

    data = im_session()
    data["assessments"].append(
        {
            "instrument": "phq9",
            "time": "2026-03-02T11:00:00-07:00",
            "answers": [0, 0, 0, 0, 0, 0, 0, 0, 1],
        }
    )
    facts = facts_from_session(from_dict(data, Session), {"history": {"psychosis": False}})
    assert facts["vitals.systolic"].magnitude == 128
    assert facts["vitals.diastolic"].magnitude == 82
    assert facts["weight"].magnitude == 80
    assert facts["scores.phq9.total"] == 1
    assert facts["scores.phq9.item9"] == 1
    assert facts["history.psychosis"] is False
    assert "pregnant" not in facts


def test_facts_from_session_orders_times_by_instant_across_the_autumn_change() -> None:
    """With one IANA zone, a post-dose reading in the repeated hour is not pre-dose.

    America/Denver, 2026-11-01: 01:10 MDT (07:10Z) is before the dose at
    01:30 MDT (07:30Z); 01:20 MST (08:20Z) is after it, although its wall
    clock reads earlier. Python compares datetimes sharing one ZoneInfo by
    wall clock, which would take the 170 mmHg reading as the pre-dose one.
    """
    import zoneinfo

    from kapproto import (
        Administration,
        Formulation,
        Medication,
        Route,
        VitalSigns,
        facts_from_session,
        quantity,
    )

    denver = zoneinfo.ZoneInfo("America/Denver")

    def at(hour: int, minute: int, fold: int = 0) -> dt.datetime:
        return dt.datetime(2026, 11, 1, hour, minute, fold=fold, tzinfo=denver)

    def bp(moment: dt.datetime, systolic: int, diastolic: int) -> VitalSigns:
        return VitalSigns(
            moment,
            systolic=quantity(f"{systolic} mm[Hg]"),
            diastolic=quantity(f"{diastolic} mm[Hg]"),
        )

    dose = Administration(
        id="a1",
        medication=Medication.KETAMINE,
        route=Route.INTRAMUSCULAR,
        formulation=Formulation.SOLUTION_FOR_INJECTION,
        amount=quantity("40 mg"),
        start=at(1, 30),
    )
    session = Session(
        id="s-dst",
        patient="p-1",
        kind=SessionKind.DOSING,
        start=at(1, 0),
        end=at(3, 0, fold=1),
        administrations=(dose,),
        vitals=(bp(at(1, 10), 120, 80), bp(at(1, 20, fold=1), 170, 100)),
    )
    facts = facts_from_session(session)
    assert facts["vitals.systolic"].magnitude == 120
    assert facts["vitals.diastolic"].magnitude == 80


def test_course_outcome_applies_the_instrument_rules() -> None:
    """Outcome compares the first and last score: change, response, remission."""
    doc = course_doc()
    doc["sessions"][1]["assessments"][0]["answers"] = [1, 1, 0, 0, 0, 0, 1, 0, 0]
    outcome = from_dict(doc, Course).outcome("phq9")
    assert outcome is not None
    assert (outcome.change.baseline, outcome.change.followup) == (12, 3)
    assert outcome.response is True
    assert outcome.remission is True
    assert from_dict(doc, Course).outcome("gad7") is None


def _python_session(**changes: Any) -> Session:
    """The IM example session built from Python, with ``changes``."""
    base = from_json((EXAMPLES / "im-session.json").read_text(), Session)
    fields = {a.name: getattr(base, a.name) for a in attrs.fields(Session)}
    fields.update(changes)
    return Session(**fields)


def test_a_session_built_from_python_takes_enum_values_as_strings() -> None:
    """Kind and status given as their JSON strings become members, and their rules apply."""
    session = _python_session(kind="dosing", status="final")
    assert (SessionKind.DOSING, SessionStatus.FINAL) == (session.kind, session.status)
    with pytest.raises(ValidationError) as info:
        _python_session(status="amended")
    assert "$.supersedes" in dict(info.value.problems)
    with pytest.raises(ValidationError) as info:
        _python_session(kind="dosnig")
    assert "$.kind" in dict(info.value.problems)


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"withheld_reason": 5}, "$.withheld_reason"),
        ({"notes": None}, "$.notes"),
        ({"vitals": ({"time": "2026-03-02T09:00:00-07:00"},)}, "$.vitals[0]"),
        ({"vitals": []}, "$.vitals"),
        ({"protocol": {"id": "im-kap", "version": "1"}}, "$.protocol"),
    ],
)
def test_a_session_built_from_python_with_wrong_types_is_a_validation_error(
    changes: dict[str, Any], path: str
) -> None:
    """Values of the wrong type are refused at their path, never an AttributeError."""
    with pytest.raises(ValidationError) as info:
        _python_session(**changes)
    assert path in dict(info.value.problems)
