"""Tests for kapproto._plans: the plan document, its UIDs, and the adherence check."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from typing import Any

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kapproto import (
    Administration,
    Course,
    Finding,
    Formulation,
    IntegrationPlan,
    Medication,
    PlanConflict,
    PlannedActivity,
    PlanTemplate,
    Reference,
    Route,
    Session,
    SessionKind,
    SessionStatus,
    Severity,
    StepKind,
    ValidationError,
    get_template,
    quantity,
)
from kapproto.instruments import AnswerKind, InstrumentResponse, get_instrument
from kapproto.serialization import from_json, to_dict, to_json
from kapproto.testing import plan_templates

DENVER = zoneinfo.ZoneInfo("America/Denver")
UTC = dt.UTC
HOUR = dt.timedelta(hours=1)


def _local(day: int, hour: int = 9, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=DENVER)


def _answers(instrument: str) -> dict[str, Any]:
    """The lowest valid answer to every item asked (skip logic honoured)."""
    given: dict[str, Any] = {}
    for item in get_instrument(instrument).items:
        if item.asked_if is not None and given.get(item.asked_if[0]) is not item.asked_if[1]:
            continue
        if item.kind is AnswerKind.BOOLEAN:
            given[item.id] = False
        elif item.kind is AnswerKind.OPTIONS:
            given[item.id] = next(iter(item.options))
        else:
            given[item.id] = item.min
    return given


def _session(
    sid: str,
    kind: SessionKind,
    start: dt.datetime,
    instruments: Iterable[str] = (),
    *,
    dose_at: dt.datetime | None = None,
    **extra: Any,
) -> Session:
    responses = tuple(InstrumentResponse(n, start, _answers(n)) for n in instruments)
    if kind is SessionKind.DOSING and "withheld_reason" not in extra:
        extra["administrations"] = (
            Administration(
                id="a1",
                medication=Medication.KETAMINE,
                route=Route.INTRAMUSCULAR,
                formulation=Formulation.SOLUTION_FOR_INJECTION,
                amount=quantity("40 mg"),
                start=dose_at or start,
            ),
        )
    return Session(
        id=sid,
        patient="p",
        kind=kind,
        start=start,
        end=start + HOUR,
        assessments=responses,
        **extra,
    )


_KIND = {
    StepKind.PREPARATION: SessionKind.PREPARATION,
    StepKind.INTEGRATION: SessionKind.INTEGRATION,
    StepKind.FOLLOW_UP: SessionKind.FOLLOW_UP,
    StepKind.ASSESSMENT: SessionKind.PREPARATION,  # a visit that only holds the responses
}


def _where(found: Finding) -> tuple[str, Severity, str]:
    return found.code, found.severity, found.path


def _course(sessions: Iterable[Session], zone: zoneinfo.ZoneInfo = DENVER) -> Course:
    ordered = sorted(sessions, key=lambda s: s.start.astimezone(UTC))
    return Course("c1", "p", Reference("im-kap", "1"), zone, sessions=tuple(ordered))


def _following(plan: IntegrationPlan, *, skip: int | None = None) -> Course:
    """A course that meets every activity of ``plan`` at its window's start (except ``skip``).

    Every non-dosing session gives every instrument the plan names, so any
    session that meets an activity has that activity's instruments.
    """
    names = sorted({n for a in plan.activities for n in a.instruments})
    sessions = [_session(f"dose-{n}", SessionKind.DOSING, d) for n, d in enumerate(plan.dosing, 1)]
    sessions += [
        _session(f"act-{i}", _KIND[a.kind], a.earliest, names)
        for i, a in enumerate(plan.activities)
        if i != skip
    ]
    zone = plan.timezone or DENVER
    return _course(sessions, zone)


@st.composite
def _plans(draw: st.DrawFn) -> tuple[PlanTemplate, IntegrationPlan]:
    template = draw(plan_templates(max_steps=4))
    zone = zoneinfo.ZoneInfo(draw(st.sampled_from(["UTC", "America/Denver", "Europe/London"])))
    first = draw(
        st.datetimes(
            min_value=dt.datetime(2025, 1, 1),
            max_value=dt.datetime(2027, 1, 1),
            timezones=st.just(zone),
            allow_imaginary=False,
        )
    )
    gaps = draw(st.lists(st.integers(min_value=2, max_value=24 * 21), max_size=5))
    dosing = [first]
    for hours in gaps:
        dosing.append((dosing[-1].astimezone(UTC) + dt.timedelta(hours=hours)).astimezone(zone))
    return template, template.instantiate(dosing=dosing, timezone=zone)


def _required_integration(template: PlanTemplate) -> PlanTemplate:
    steps = [
        attrs.evolve(s, required=True) if s.kind is StepKind.INTEGRATION else s
        for s in template.steps
    ]
    return attrs.evolve(template, steps=steps)


# -- adherence: properties --------------------------------------------------------


@given(_plans())
def test_course_that_follows_the_plan_has_no_findings(case: tuple[PlanTemplate, Any]) -> None:
    """Every activity met at the start of its window: no adherence finding."""
    template, plan = case
    course = _following(plan)
    assert [] == plan.adherence(course)
    assert plan.activities == template.for_course(course).activities


@given(_plans(), st.data())
def test_removing_one_integration_session_gives_one_missing(
    case: tuple[PlanTemplate, Any], data: st.DataObject
) -> None:
    """Drop one integration session of a plan that follows exactly: one integration.missing."""
    template, plan = case
    plan = _required_integration(template).instantiate(dosing=plan.dosing, timezone=plan.timezone)
    integrations = [i for i, a in enumerate(plan.activities) if a.kind is StepKind.INTEGRATION]
    assume(integrations)
    dropped = data.draw(st.sampled_from(integrations))
    findings = plan.adherence(_following(plan, skip=dropped))
    assert [("integration.missing", Severity.ERROR, "$.sessions")] == [_where(f) for f in findings]


# -- adherence: examples ---------------------------------------------------------


@pytest.fixture
def weekly() -> IntegrationPlan:
    """kap-weekly-3 dated for three Monday doses in Denver."""
    return get_template("kap-weekly-3").instantiate(
        dosing=[_local(2), _local(9), _local(16)], timezone=DENVER
    )


def _base(plan: IntegrationPlan) -> list[Session]:
    """Dosing sessions, preparation and the one-week follow-up of kap-weekly-3, all on time."""
    return [
        *(_session(f"dose-{n}", SessionKind.DOSING, d) for n, d in enumerate(plan.dosing, 1)),
        _session("prep", SessionKind.PREPARATION, _local(1) - 3 * HOUR * 24, ["phq9", "gad7"]),
        _session("fu", SessionKind.FOLLOW_UP, _local(24), ["phq9", "gad7"]),
    ]


def _integrations(*days: int) -> list[Session]:
    return [_session(f"int-{day}", SessionKind.INTEGRATION, _local(day, 14)) for day in days]


def test_weekly_course_on_time_has_no_findings(weekly: IntegrationPlan) -> None:
    """Integration the day after each dose: nothing to report (optional follow-ups not missing)."""
    assert [] == weekly.adherence(_course(_base(weekly) + _integrations(3, 10, 17)))


def test_missing_integration_names_step_dose_and_window(weekly: IntegrationPlan) -> None:
    """No integration after dose 2: one integration.missing naming step, dose and window."""
    (found,) = weekly.adherence(_course(_base(weekly) + _integrations(3, 17)))
    assert ("integration.missing", Severity.ERROR, "$.sessions") == _where(found)
    assert (
        "Integration session (dosing session 2) [step 'integration']: no integration session in "
        "its window Mon 2026-03-09 09:00 MDT – Wed 2026-03-11 09:00 MDT"
    ) == found.message
    assert found.source.startswith("template kap-weekly-3@1 step 'integration': A 2 h")


def test_integration_after_its_window_is_late(weekly: IntegrationPlan) -> None:
    """An integration session four days after dose 2, before dose 3: integration.late there."""
    course = _course(_base(weekly) + _integrations(3, 13, 17))
    (found,) = weekly.adherence(course)
    index = [s.id for s in course.sessions].index("int-13")
    assert ("integration.late", Severity.WARNING, f"$.sessions[{index}]") == _where(found)
    assert (
        "integration session 'int-13' at Fri 2026-03-13 14:00 MDT is after its window"
        in found.message
    )


def test_preparation_too_early_is_late_before_its_window(weekly: IntegrationPlan) -> None:
    """A preparation session 20 days before the first dose lies before its 14 d window."""
    sessions = [s for s in _base(weekly) if s.id != "prep"]
    sessions.append(
        _session("prep", SessionKind.PREPARATION, _local(2) - 20 * 24 * HOUR, ["phq9", "gad7"])
    )
    findings = weekly.adherence(_course(sessions + _integrations(3, 10, 17)))
    assert [("integration.late", "before its window")] == [
        (f.code, "before its window" if "before its window" in f.message else "") for f in findings
    ]


def test_session_without_an_instrument_gives_assessment_missing(weekly: IntegrationPlan) -> None:
    """The preparation session gave PHQ-9 but not GAD-7: one assessment.missing at that session."""
    sessions = [s for s in _base(weekly) if s.id != "prep"]
    sessions.append(_session("prep", SessionKind.PREPARATION, _local(1), ["phq9"]))
    course = _course(sessions + _integrations(3, 10, 17))
    (found,) = weekly.adherence(course)
    index = [s.id for s in course.sessions].index("prep")
    assert ("assessment.missing", Severity.WARNING, f"$.sessions[{index}]") == _where(found)
    assert "GAD-7 was not given in session 'prep'" in found.message


def test_entered_in_error_and_superseded_sessions_do_not_count(weekly: IntegrationPlan) -> None:
    """An integration entered in error, or superseded by a late correction, does not meet the plan."""
    sessions = _base(weekly) + _integrations(3, 17)
    sessions.append(
        _session(
            "int-10", SessionKind.INTEGRATION, _local(10, 14), status=SessionStatus.ENTERED_IN_ERROR
        )
    )
    assert ["integration.missing"] == [f.code for f in weekly.adherence(_course(sessions))]
    moved = _base(weekly) + _integrations(3, 10, 17)
    moved.append(
        _session(
            "int-10b", SessionKind.INTEGRATION, _local(13, 14),
            status=SessionStatus.AMENDED, supersedes="int-10",
        )
    )  # fmt: skip
    assert ["integration.late"] == [f.code for f in weekly.adherence(_course(moved))]


def test_assessment_step_is_met_by_a_response_in_any_session() -> None:
    """iv-induction-6: MADRS given in the dosing sessions before and after the series."""
    dosing = [_local(d) for d in (2, 4, 6, 9, 11, 13)]
    plan = get_template("iv-induction-6").instantiate(dosing=dosing, timezone=DENVER)
    sessions = [
        _session(f"dose-{n}", SessionKind.DOSING, d, ["madrs"] if n in (1, 6) else [])
        for n, d in enumerate(dosing, 1)
    ]
    assert [] == plan.adherence(_course(sessions))
    without_baseline = [
        _session(f"dose-{n}", SessionKind.DOSING, d, ["madrs"] if n == 6 else [])
        for n, d in enumerate(dosing, 1)
    ]
    (found,) = plan.adherence(_course(without_baseline))
    assert ("assessment.missing", "$.sessions") == (found.code, found.path)
    assert "Baseline assessment [step 'baseline']: no MADRS in its window" in found.message


def test_assessment_given_late_points_at_the_response() -> None:
    """The baseline MADRS given 8 days before the first infusion is late, at its response."""
    dosing = [_local(d) for d in (9, 11, 13)]
    plan = get_template("iv-induction-6").instantiate(dosing=dosing, timezone=DENVER)
    sessions = [
        _session("visit", SessionKind.PREPARATION, _local(1), ["madrs"]),
        *(_session(f"dose-{n}", SessionKind.DOSING, d, ["madrs"] if n == 3 else [])
          for n, d in enumerate(dosing, 1)),
    ]  # fmt: skip
    (found,) = plan.adherence(_course(sessions))
    assert ("integration.late", "$.sessions[0].assessments[0]") == (found.code, found.path)
    assert "MADRS given in session 'visit' at Sun 2026-03-01 09:00 MST is before its window" in (
        found.message
    )


def test_optional_activity_is_not_missing() -> None:
    """esketamine-trd-induction's integration is optional: no session, no finding for it."""
    dosing = [_local(d) for d in (2, 5)]
    plan = get_template("esketamine-trd-induction").instantiate(dosing=dosing, timezone=DENVER)
    sessions = [
        _session("dose-1", SessionKind.DOSING, dosing[0], ["madrs", "phq9"]),
        _session("dose-2", SessionKind.DOSING, dosing[1]),
    ]
    assert [] == plan.adherence(_course(sessions))


def test_for_course_uses_dose_times_zone_and_id() -> None:
    """for_course dates the plan from the first administration of each effective dosing session."""
    sessions = [
        _session("d1", SessionKind.DOSING, _local(2), dose_at=_local(2, 10)),
        _session("d2", SessionKind.DOSING, _local(9), dose_at=_local(9, 10)),
        _session("d3", SessionKind.DOSING, _local(16), withheld_reason="BP above 180/110"),
    ]
    plan = get_template("kap-weekly-3").for_course(_course(sessions))
    assert ((_local(2, 10), _local(9, 10)), DENVER, "c1") == (plan.dosing, plan.timezone, plan.id)


# -- the plan document -------------------------------------------------------------


@given(_plans())
def test_plan_json_round_trips(case: tuple[PlanTemplate, Any]) -> None:
    """from_json(to_json(plan)) == plan, and the document names its schema."""
    _, plan = case
    text = to_json(plan)
    assert plan == from_json(text, IntegrationPlan)
    assert "kapproto.plan/1" == to_dict(plan)["schema"]


def test_plan_json_round_trips_in_the_repeated_hour() -> None:
    """A dose at 01:00 MST on the autumn-change day (the second 01:00) reads back equal."""
    second = dt.datetime(2025, 11, 2, 1, 0, fold=1, tzinfo=DENVER)
    plan = get_template("kap-weekly-3").instantiate(dosing=[second], timezone=DENVER)
    back = from_json(to_json(plan), IntegrationPlan)
    assert plan == back
    assert (1, "MST") == (back.dosing[0].fold, back.dosing[0].tzname())


def test_plan_json_shape(weekly: IntegrationPlan) -> None:
    """The document keeps the template reference, the zone key and ISO times with offsets."""
    data = to_dict(weekly)
    assert {"id": "kap-weekly-3", "version": "1"} == data["template"]
    assert "America/Denver" == data["timezone"]
    assert "2026-03-09T09:00:00-06:00" == data["dosing"][1]
    assert {"value": 120, "unit": "min"} == data["activities"][0]["duration"]
    assert "preparation" == data["activities"][0]["kind"]


def test_plan_json_with_unknown_key_is_refused(weekly: IntegrationPlan) -> None:
    """Unknown keys are errors with their path."""
    data = to_dict(weekly)
    data["activities"][0]["colour"] = "red"
    with pytest.raises(ValidationError) as info:
        from_json(to_json(data), IntegrationPlan)
    assert "$.activities[0].colour" == info.value.problems[0].path


def test_uids_are_stable_and_distinct(weekly: IntegrationPlan) -> None:
    """UIDs name the plan, step and dose; without an id they derive from template and start."""
    uids = [weekly.uid(i) for i in range(len(weekly.activities))]
    assert len(set(uids)) == len(uids)
    assert uids[1].endswith(".integration.1@kapproto")
    named = attrs.evolve(weekly, id="course-17")
    assert "course-17.prep.0@kapproto" == named.uid(0)
    other_start = get_template("kap-weekly-3").instantiate(
        dosing=[_local(3), _local(10)], timezone=DENVER
    )
    assert weekly.key != other_start.key
    assert weekly.key == get_template("kap-weekly-3").instantiate(dosing=[_local(2)]).key


def test_plan_refuses_unsorted_activities_and_bad_conflicts(weekly: IntegrationPlan) -> None:
    """Activities out of order, unsorted dosing or a conflict naming no activity are refused."""
    with pytest.raises(ValidationError) as info:
        attrs.evolve(weekly, activities=weekly.activities[::-1])
    assert "activities must be sorted by earliest" in str(info.value)
    with pytest.raises(ValidationError) as info:
        attrs.evolve(weekly, dosing=weekly.dosing[::-1])
    assert "$.dosing[1]" == info.value.problems[0].path
    bad = PlanConflict("integration", 99, 2, _local(9), "x")
    with pytest.raises(ValidationError) as info:
        attrs.evolve(weekly, conflicts=(bad,))
    assert "$.conflicts[0].activity" == info.value.problems[0].path


def test_activity_refuses_window_ending_before_it_starts() -> None:
    """A PlannedActivity whose latest is before its earliest is malformed."""
    with pytest.raises(ValidationError) as info:
        PlannedActivity("s", StepKind.INTEGRATION, "I", _local(3), _local(2), _local(2))
    assert "$.latest" == info.value.problems[0].path
