"""Courses: cumulative exposure in one basis, day numbers, scores and outcomes by instrument."""

from __future__ import annotations

import copy
import datetime as dt
import json
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapproto import (
    Course,
    Medication,
    UnknownReferenceError,
    ValidationError,
    from_dict,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "sessions"
DENVER = zoneinfo.ZoneInfo("America/Denver")
# The course example's dosing sessions (sessions[1], [3], [5]) give 40, 48 and 56 mg of base.
DOSES = (1, 3, 5)

Data = dict[str, Any]


def course_doc() -> Data:
    """The parsed example course."""
    data: Data = json.loads((EXAMPLES / "course.json").read_text(encoding="utf-8"))
    return data


def as_hydrochloride(data: Data, session: int, *, convert: bool) -> Data:
    """The course with one dose recorded as hydrochloride (the same mg, or the same base if ``convert``)."""
    out = copy.deepcopy(data)
    adm = out["sessions"][session]["administrations"][0]
    adm["basis"] = "hydrochloride"
    if convert:
        ratio = Medication.KETAMINE.info.hydrochloride_per_base.value
        adm["amount"] = {"value": round(adm["amount"]["value"] * ratio, 2), "unit": "mg"}
    return out


# ---------------------------------------------------------------------------
# Cumulative exposure
# ---------------------------------------------------------------------------


def test_exposure_of_the_example_course_is_144_mg_base() -> None:
    """40 + 48 + 56 mg of base."""
    total = from_dict(course_doc(), Course).cumulative_exposure()
    assert ["ketamine"] == list(total)
    assert (144.0, "milligram") == (total["ketamine"].magnitude, str(total["ketamine"].units))


def test_hydrochloride_dose_is_counted_as_base() -> None:
    """Dose 1 as 40 mg of the HCl salt is 40 / 1.153 = 34.7 mg base, so the total is 138.7 mg, not 144."""
    course = from_dict(as_hydrochloride(course_doc(), 1, convert=False), Course)
    assert 138.7 == course.cumulative_exposure()["ketamine"].magnitude


def test_exposure_uses_the_medication_reference_ratio() -> None:
    """The factor comes from data/medications.toml (Ketalar PI: 10 mg base = 11.53 mg HCl)."""
    ratio = Medication.KETAMINE.info.hydrochloride_per_base
    assert 1.153 == ratio.value
    assert "11.53" in ratio.source
    course = from_dict(as_hydrochloride(course_doc(), 1, convert=False), Course)
    assert (
        round(40 / ratio.value + 48 + 56, 1) == course.cumulative_exposure()["ketamine"].magnitude
    )


def test_esketamine_hydrochloride_is_counted_apart_and_as_base() -> None:
    """Each medication has its own total; esketamine HCl is converted with esketamine's ratio."""
    data = course_doc()
    adm = data["sessions"][3]["administrations"][0]
    adm.update(
        medication="esketamine",
        route="intranasal",
        formulation="nasal_spray_device",
        basis="hydrochloride",
        amount={"value": 56, "unit": "mg"},
    )
    adm.pop("concentration", None)
    total = from_dict(data, Course).cumulative_exposure()
    ratio = Medication.ESKETAMINE.info.hydrochloride_per_base.value
    assert {"ketamine": 96.0, "esketamine": round(56 / ratio, 1)} == {
        k: v.magnitude for k, v in total.items()
    }
    assert 48.6 == total["esketamine"].magnitude


@given(st.sets(st.sampled_from(DOSES)))
def test_exposure_does_not_depend_on_the_basis_a_dose_is_recorded_in(salted: set[int]) -> None:
    """Recording any doses as the equivalent amount of HCl salt keeps the total in base (to 0.1 mg)."""
    data = course_doc()
    for session in salted:
        data = as_hydrochloride(data, session, convert=True)
    total = from_dict(data, Course).cumulative_exposure()["ketamine"].magnitude
    assert abs(total - 144.0) <= 0.1


# ---------------------------------------------------------------------------
# Day numbers, scores, outcomes
# ---------------------------------------------------------------------------


def test_day_of_a_course_without_sessions_is_an_error() -> None:
    """A course with no sessions has no day 1: a ValidationError at $.sessions, not an IndexError."""
    course = from_dict({**course_doc(), "sessions": []}, Course)
    with pytest.raises(ValidationError) as info:
        course.day_of(dt.datetime(2026, 3, 2, 9, tzinfo=DENVER))
    assert [("$.sessions", "course 'c-001' has no sessions, so it has no day 1")] == [
        tuple(p) for p in info.value.problems
    ]


def test_day_of_counts_from_the_first_dose() -> None:
    """Day 1 is the first dosing session's date in the course's zone; a week later is day 8."""
    course = from_dict(course_doc(), Course)
    assert 1 == course.day_of(dt.datetime(2026, 3, 2, 23, 59, tzinfo=DENVER))
    assert 8 == course.day_of(dt.datetime(2026, 3, 9, 0, 1, tzinfo=DENVER))
    assert -6 == course.day_of(course.sessions[0].start)


@pytest.mark.parametrize("method", ["outcome", "scores"])
def test_unknown_instrument_lists_the_known_ones(method: str) -> None:
    """An instrument id no catalogue knows is an UnknownReferenceError naming it and the known ids."""
    course = from_dict(course_doc(), Course)
    with pytest.raises(UnknownReferenceError) as info:
        getattr(course, method)("nope")
    message = str(info.value)
    assert "'nope'" in message
    assert "phq9" in message
    assert "madrs" in message


def test_known_instrument_never_given_has_no_scores_and_no_outcome() -> None:
    """MADRS is known but was never given in the example course: [] and None, not an error."""
    course = from_dict(course_doc(), Course)
    assert [] == course.scores("madrs")
    assert course.outcome("madrs") is None
    totals = [s.total for _, s in course.scores("phq9")]
    assert (12, 4) == (totals[0], totals[-1])


def test_one_score_gives_no_outcome() -> None:
    """GAD-7 given once has one score and no outcome."""
    data = course_doc()
    for session in data["sessions"][1:]:
        session["assessments"] = [
            a for a in session.get("assessments", []) if a["instrument"] != "gad7"
        ]
    course = from_dict(data, Course)
    assert 1 == len(course.scores("gad7"))
    assert course.outcome("gad7") is None
