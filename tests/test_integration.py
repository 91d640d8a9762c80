"""Tests for kapproto._integration: templates, built-ins, files and instantiation."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapproto import (
    IntegrationPlan,
    PlanAnchor,
    PlanStep,
    PlanTemplate,
    ProtocolError,
    StepKind,
    StepWindow,
    UnknownReferenceError,
    ValidationError,
    builtin_templates,
    get_template,
    load_template,
)
from kapproto._params import Confidence
from kapproto.serialization import to_json
from kapproto.testing import plan_templates

DENVER = zoneinfo.ZoneInfo("America/Denver")
ZONES = ["UTC", "America/Denver", "Europe/London", "Australia/Lord_Howe", "America/Santiago"]
UTC = dt.UTC


def _local(day: int, hour: int = 9, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=DENVER)


def _template(*steps: PlanStep) -> PlanTemplate:
    return PlanTemplate("t", "1", "Test template", "test", steps)


BASE_STEP = PlanStep(
    "s",
    "Integration",
    StepKind.INTEGRATION,
    PlanAnchor.EACH_DOSING,
    StepWindow.after("0 h", "48 h"),
)


def _step(step_id: str = "s", **changes: object) -> PlanStep:
    return attrs.evolve(BASE_STEP, id=step_id, **changes)  # type: ignore[arg-type]


# -- built-in templates ---------------------------------------------------------


def test_builtin_templates_are_the_four_of_the_issue() -> None:
    """The shipped templates, each at version 1."""
    assert {
        ("esketamine-trd-induction", "1"),
        ("iv-induction-6", "1"),
        ("kap-guided-4-6", "1"),
        ("kap-weekly-3", "1"),
    } == set(builtin_templates())


@pytest.mark.parametrize("key", sorted(builtin_templates()))
def test_every_builtin_step_cites_its_source_and_confidence(key: tuple[str, str]) -> None:
    """Every built-in step window carries a source and a confidence (principle 4)."""
    for step in builtin_templates()[key].steps:
        assert step.source.strip(), step.id
        assert step.confidence is not None, step.id


@pytest.mark.parametrize("key", sorted(builtin_templates()))
def test_no_builtin_window_rests_on_the_unconfirmed_24_72_h(key: tuple[str, str]) -> None:
    """CLINICAL.md marks '24-72 h' [U]: no sourced integration window reaches 72 h."""
    for step in builtin_templates()[key].steps:
        if step.kind is StepKind.INTEGRATION:
            latest, _ = step.window.around(dt.datetime(2026, 1, 1, tzinfo=UTC), UTC)
            assert latest - dt.datetime(2026, 1, 1, tzinfo=UTC) <= dt.timedelta(hours=48)
        if step.confidence in (Confidence.C, Confidence.S):
            assert "[S]" in step.source or "[C]" in step.source


def test_kap_weekly_3_preparation_before_and_integration_after_each_dose() -> None:
    """Three weekly doses: one preparation before, one integration after each."""
    plan = get_template("kap-weekly-3").instantiate(
        dosing=[_local(2), _local(9), _local(16)], timezone=DENVER
    )
    required = [(a.step_id, a.dose_number) for a in plan.activities if a.required]
    assert [
        ("prep", None),
        ("integration", 1),
        ("integration", 2),
        ("integration", 3),
        ("follow-up-1wk", 3),
    ] == required
    assert () == plan.conflicts


def test_guided_template_has_psychotherapy_after_doses_1_2_then_every_second() -> None:
    """Field Trip pattern: psychotherapy after doses 1, 2, 4 and 6 of six."""
    dosing = [_local(d) for d in (2, 5, 9, 12, 16, 19)]
    plan = get_template("kap-guided-4-6").instantiate(dosing=dosing, timezone=DENVER)
    after = sorted(a.dose_number for a in plan.activities if a.kind is StepKind.INTEGRATION)
    assert [1, 2, 4, 6] == after


def test_esketamine_end_of_induction_follows_the_eighth_dose() -> None:
    """Twice weekly for four weeks: the end-of-induction assessment anchors at dose 8."""
    dosing = [_local(d) for d in (2, 5, 9, 12, 16, 19, 23, 26, 30)]
    plan = get_template("esketamine-trd-induction").instantiate(dosing=dosing, timezone=DENVER)
    (end,) = [a for a in plan.activities if a.step_id == "end-of-induction"]
    assert (8, _local(26)) == (end.dose_number, end.anchor_time)
    assert () == plan.conflicts


def test_iv_induction_thrice_weekly_has_no_conflicts() -> None:
    """Six infusions Mon/Wed/Fri over 12 days: the 24 h integration windows stay clear."""
    dosing = [_local(d) for d in (2, 4, 6, 9, 11, 13)]
    plan = get_template("iv-induction-6").instantiate(dosing=dosing, timezone=DENVER)
    assert 6 == sum(a.kind is StepKind.INTEGRATION for a in plan.activities)
    assert () == plan.conflicts


def test_get_template_unknown_lists_the_known_ones() -> None:
    """An unknown id or version raises UnknownReferenceError naming the known templates."""
    with pytest.raises(UnknownReferenceError) as info:
        get_template("kap-weekly-4")
    assert "known: esketamine-trd-induction@1, iv-induction-6@1" in str(info.value)
    with pytest.raises(UnknownReferenceError):
        get_template("kap-weekly-3", "2")
    assert "1" == get_template("kap-weekly-3", "1").version


# -- files ----------------------------------------------------------------------


def test_load_template_reads_toml_and_json(tmp_path: Path) -> None:
    """The same template from TOML and from JSON is equal."""
    template = get_template("kap-weekly-3")
    as_json = tmp_path / "t.json"
    as_json.write_text(json.dumps(template.to_dict()), encoding="utf-8")
    shipped = Path(__file__).parents[1] / "src/kapproto/data/templates/kap-weekly-3.toml"
    assert template == load_template(as_json) == load_template(shipped)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.toml", "id = ", "is not valid TOML"),
        ("bad.json", "{", "is not valid JSON"),
        ("list.json", "[1]", "a template must be a table/object"),
    ],
)
def test_load_template_bad_file(tmp_path: Path, name: str, content: str, message: str) -> None:
    """Unparseable files are ProtocolErrors naming the problem."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ProtocolError) as info:
        load_template(path)
    assert message in str(info.value)


def test_load_template_missing_file(tmp_path: Path) -> None:
    """A missing file is a ProtocolError, not an OSError."""
    with pytest.raises(ProtocolError) as info:
        load_template(tmp_path / "none.toml")
    assert "cannot read" in str(info.value)


# -- instantiation: properties ----------------------------------------------------


@st.composite
def _schedules(draw: st.DrawFn) -> tuple[zoneinfo.ZoneInfo, list[dt.datetime]]:
    zone = zoneinfo.ZoneInfo(draw(st.sampled_from(ZONES)))
    moments = draw(
        st.lists(
            st.datetimes(
                min_value=dt.datetime(2025, 1, 1),
                max_value=dt.datetime(2027, 12, 31),
                timezones=st.just(zone),
                allow_imaginary=False,
            ),
            min_size=1,
            max_size=8,
            unique_by=lambda d: d.astimezone(UTC),
        )
    )
    return zone, sorted(moments, key=lambda d: d.astimezone(UTC))


Case = tuple[PlanTemplate, zoneinfo.ZoneInfo, list[dt.datetime], IntegrationPlan]


@st.composite
def _cases(draw: st.DrawFn) -> Case:
    """A template, a zone, a dosing schedule in it, and the plan they make."""
    template = draw(plan_templates())
    zone, dosing = draw(_schedules())
    return template, zone, dosing, template.instantiate(dosing=dosing, timezone=zone)


def _exists(wall: dt.datetime, zone: zoneinfo.ZoneInfo) -> bool:
    return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def _meets_bound(anchor: dt.datetime, moment: dt.datetime, bound: str, sign: int) -> bool:
    """``moment`` is ``bound`` from ``anchor``: elapsed for s/min/h, wall-clock for d/wk."""
    number, unit = bound.split()
    zone = moment.tzinfo
    assert isinstance(zone, zoneinfo.ZoneInfo)
    if unit in ("s", "min", "h"):
        seconds = float(number) * {"s": 1, "min": 60, "h": 3600}[unit]
        return moment.astimezone(UTC) - anchor.astimezone(UTC) == sign * dt.timedelta(
            seconds=seconds
        )
    days = int(float(number)) * (7 if unit == "wk" else 1)
    wall = anchor.astimezone(zone).replace(tzinfo=None, fold=0) + sign * dt.timedelta(days=days)
    got = moment.replace(tzinfo=None, fold=0)
    if _exists(wall, zone):
        return got == wall
    return wall.date() == got.date() and got > wall  # a DST gap moves the time forward


@given(_cases())
def test_every_activity_lies_in_its_window_relative_to_its_anchor(case: Case) -> None:
    """Each activity's bounds are its step's bounds from its anchor, in the plan's zone."""
    template, zone, dosing, plan = case
    steps = {s.id: s for s in template.steps}
    for activity in plan.activities:
        step = steps[activity.step_id]
        if step.anchor is PlanAnchor.COURSE_START:
            assert (None, dosing[0]) == (activity.dose_number, activity.anchor_time)
        else:
            assert activity.dose_number is not None
            assert dosing[activity.dose_number - 1] == activity.anchor_time
        sign = 1 if step.window.side.value == "after" else -1
        assert _meets_bound(activity.anchor_time, activity.earliest, step.window.start, sign)
        assert _meets_bound(activity.anchor_time, activity.latest, step.window.end, sign)
        assert activity.earliest.astimezone(UTC) <= activity.latest.astimezone(UTC)
        assert zone == activity.earliest.tzinfo


@given(_cases())
def test_plan_has_one_activity_per_selected_anchor(case: Case) -> None:
    """course_start and last_dosing steps give one activity; each_dosing one per selected dose."""
    template, _, dosing, plan = case
    for step in template.steps:
        numbers = [a.dose_number for a in plan.activities if a.step_id == step.id]
        if step.anchor is PlanAnchor.COURSE_START:
            assert [None] == numbers
        elif step.anchor is PlanAnchor.LAST_DOSING:
            assert [len(dosing)] == numbers
        else:
            expected = [n for n in range(1, len(dosing) + 1) if step.selects(n)]
            assert expected == sorted(n for n in numbers if n is not None)


@given(_cases())
def test_plan_is_sorted_and_deterministic(case: Case) -> None:
    """Activities are sorted by earliest; instantiating twice gives the same plan and JSON."""
    template, zone, dosing, plan = case
    starts = [a.earliest.astimezone(UTC) for a in plan.activities]
    assert sorted(starts) == starts
    again = template.instantiate(dosing=list(dosing), timezone=zone.key)
    assert plan == again
    assert to_json(plan) == to_json(again)


@given(_cases())
def test_conflicts_are_exactly_the_dosing_times_inside_windows(case: Case) -> None:
    """A conflict is listed for each dosing time, other than the anchor, inside a window."""
    _, _, dosing, plan = case
    expected = {
        (i, n)
        for i, a in enumerate(plan.activities)
        for n, d in enumerate(dosing, start=1)
        if a.earliest.astimezone(UTC) <= d.astimezone(UTC) <= a.latest.astimezone(UTC)
        and d.astimezone(UTC) != a.anchor_time.astimezone(UTC)
    }
    assert expected == {(c.activity, c.dose_number) for c in plan.conflicts}


# -- instantiation: examples ----------------------------------------------------


def test_day_windows_keep_wall_clock_across_dst() -> None:
    """Weekly 09:00 doses across the March change: '1 d' windows end at 09:00 local."""
    template = _template(_step(window=StepWindow.after("1 d", "2 d")))
    plan = template.instantiate(dosing=[_local(2), _local(9)], timezone="America/Denver")
    assert [(9, "MST"), (9, "MDT")] == [
        (a.earliest.hour, a.earliest.tzname()) for a in plan.activities
    ]


def test_hour_windows_are_elapsed_across_dst() -> None:
    """A 24 h bound from 09:00 MST on 7 March ends at 10:00 MDT on 8 March."""
    template = _template(_step(window=StepWindow.after("24 h", "24 h")))
    (activity,) = template.instantiate(dosing=[_local(7)], timezone=DENVER).activities
    assert dt.datetime(2026, 3, 8, 10, 0, tzinfo=DENVER) == activity.earliest


def test_without_timezone_each_anchor_keeps_its_offset() -> None:
    """timezone=None: a fixed offset counts a day as 24 h and the plan keeps the offset."""
    fixed = dt.timezone(dt.timedelta(hours=-7))
    template = _template(_step(window=StepWindow.after("1 d", "1 d")))
    plan = template.instantiate(dosing=[dt.datetime(2026, 3, 7, 9, tzinfo=fixed)])
    assert (None, dt.datetime(2026, 3, 8, 9, tzinfo=fixed)) == (
        plan.timezone,
        plan.activities[0].earliest,
    )
    assert fixed == plan.activities[0].earliest.tzinfo


def test_course_start_defaults_to_first_dosing_and_may_be_earlier() -> None:
    """course_start anchors course_start steps; it defaults to the first dosing time."""
    template = _template(
        _step("prep", kind=StepKind.PREPARATION, anchor=PlanAnchor.COURSE_START,
              window=StepWindow.before("7 d", "1 d"))
    )  # fmt: skip
    assert _local(2) == template.instantiate(dosing=[_local(2)]).course_start
    plan = template.instantiate(course_start=_local(1), dosing=[_local(2)], timezone=DENVER)
    assert _local(1) - dt.timedelta(days=7) == plan.activities[0].earliest
    only_start = template.instantiate(course_start=_local(1))
    assert () == only_start.dosing


def test_window_running_into_next_dose_is_reported_not_moved() -> None:
    """Doses a day apart: the 0-48 h window of dose 1 contains dose 2; it is kept and listed."""
    plan = get_template("kap-weekly-3").instantiate(dosing=[_local(2), _local(3)], timezone=DENVER)
    (conflict,) = [c for c in plan.conflicts if c.step_id == "integration"]
    activity = plan.activities[conflict.activity]
    assert (1, 2, _local(3)) == (activity.dose_number, conflict.dose_number, conflict.dosing_time)
    assert _local(4) == activity.latest
    assert "runs into dosing session 2 at Tue 2026-03-03 09:00 MST" in conflict.message


# -- instantiation: bad input ------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "path", "message"),
    [
        ({"dosing": [_local(9), _local(2)]}, "$.dosing[1]", "must be sorted and distinct"),
        ({"dosing": [_local(2), _local(2)]}, "$.dosing[1]", "must be sorted and distinct"),
        ({"dosing": [dt.datetime(2026, 3, 2, 9)]}, "$.dosing[0]", "naive datetime"),
        ({"dosing": ["2026-03-02"]}, "$.dosing[0]", "is not a datetime"),
        ({"dosing": "2026-03-02"}, "$.dosing", "expected a list of datetimes"),
        ({"dosing": [_local(2)], "timezone": "Mars/Olympus"}, "$.timezone", "not an IANA"),
        ({"dosing": [_local(2)], "timezone": 7}, "$.timezone", "not an IANA"),
        ({"course_start": dt.datetime(2026, 3, 1)}, "$.course_start", "timezone-aware"),
        ({}, "$.course_start", "give a course_start or at least one dosing time"),
        (
            {"course_start": _local(3), "dosing": [_local(2)]},
            "$.course_start",
            "is after the first dosing time",
        ),
    ],
)
def test_bad_instantiate_input(kwargs: dict[str, object], path: str, message: str) -> None:
    """Unsorted or naive dosing, an unknown zone, a bad course start: ValidationError."""
    with pytest.raises(ValidationError) as info:
        get_template("kap-weekly-3").instantiate(**kwargs)  # type: ignore[arg-type]
    assert any(p == path and message in m for p, m in info.value.problems), info.value.problems


def test_bad_instantiate_input_reports_every_problem() -> None:
    """A naive dose and an unknown zone are reported together."""
    with pytest.raises(ValidationError) as info:
        get_template("kap-weekly-3").instantiate(
            dosing=[_local(2), dt.datetime(2026, 3, 9)], timezone="Nowhere/Else"
        )
    assert ["$.timezone", "$.dosing[1]"] == [p for p, _ in info.value.problems]


def test_template_needs_steps_with_distinct_ids() -> None:
    """A template without steps, or with a repeated step id, is refused."""
    with pytest.raises(ValidationError):
        PlanTemplate("t", "1", "T", "s", ())
    with pytest.raises(ValidationError) as info:
        _template(_step("a"), _step("a"))
    assert "$.steps[1].id" == info.value.problems[0].path
