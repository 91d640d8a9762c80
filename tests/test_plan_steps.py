"""Tests for kapproto._plan_steps: step windows, their clocks, and plan steps."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapproto import PlanAnchor, PlanStep, StepKind, StepWindow, ValidationError, WindowSide
from kapproto.testing import step_windows
from kapproto.units import quantity

DENVER = zoneinfo.ZoneInfo("America/Denver")
LONDON = zoneinfo.ZoneInfo("Europe/London")


def _elapsed(earlier: dt.datetime, later: dt.datetime) -> dt.timedelta:
    """Elapsed time (Python subtracts datetimes sharing a tzinfo by wall time)."""
    return later.astimezone(dt.UTC) - earlier.astimezone(dt.UTC)


BASE_STEP = PlanStep(
    "integrate",
    "Integration",
    StepKind.INTEGRATION,
    PlanAnchor.EACH_DOSING,
    StepWindow.after("0 h", "48 h"),
)


def _step(**changes: object) -> PlanStep:
    return attrs.evolve(BASE_STEP, **changes)  # type: ignore[arg-type]


# -- windows ------------------------------------------------------------------


def test_bounds_are_normalised_to_ucum_codes() -> None:
    """Spellings people type become the canonical '<number> <UCUM code>' form."""
    assert ("24 h", "72 h") == StepWindow.after("24hours", "72 hrs").bounds
    assert ("1 d", "2 wk") == StepWindow.after("1 day", "2 weeks").bounds


def test_after_window_with_start_after_end_is_refused() -> None:
    """A window after = [2 d, 1 d] starts after it ends."""
    with pytest.raises(ValidationError) as info:
        StepWindow.after("2 d", "1 d")
    assert "starts after it ends; expected from <= to" in str(info.value)


def test_before_window_with_start_after_end_is_refused() -> None:
    """A window before = [1 d, 14 d] would run from 1 day before to 14 days before: backwards."""
    with pytest.raises(ValidationError) as info:
        StepWindow.before("1 d", "14 d")
    assert "expected from >= to" in str(info.value)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("12 h", "2 d", "mixes wall-clock days with elapsed hours"),
        ("1 mo", "2 mo", "months and years have no fixed length"),
        ("1.5 d", "2 d", "not a whole number of days"),
        ("-1 h", "2 h", "not a window bound"),
        ("2 mg", "3 mg", "not a window bound"),
        ("soon", "2 h", "not a window bound"),
    ],
)
def test_bad_bounds_are_refused(start: str, end: str, message: str) -> None:
    """Mixed clocks, months, part days, negative or non-time bounds are input errors."""
    with pytest.raises(ValidationError) as info:
        StepWindow.after(start, end)
    assert message in str(info.value)


def test_a_zero_bound_fits_either_clock() -> None:
    """'0 h' with '2 d' is not a mix: zero is zero on both clocks."""
    assert ("0 h", "2 d") == StepWindow.after("0 h", "2 d").bounds


def test_bound_that_is_not_a_string_is_refused() -> None:
    """A bare number is not a window bound."""
    with pytest.raises(ValidationError) as info:
        StepWindow.after(0, "2 h")  # type: ignore[arg-type]
    assert "expected a window bound such as '24 h', got 0" in str(info.value)


def test_side_must_be_a_window_side() -> None:
    """A string side raises ValidationError, not TypeError."""
    with pytest.raises(ValidationError) as info:
        StepWindow("after", "0 h", "1 h")  # type: ignore[arg-type]
    assert "$.side" == info.value.problems[0].path


def test_days_keep_wall_clock_time_across_dst() -> None:
    """1 d after 09:00 MST on the day before the spring change is 09:00 MDT, 23 h later."""
    anchor = dt.datetime(2026, 3, 7, 9, 0, tzinfo=DENVER)
    earliest, latest = StepWindow.after("1 d", "1 wk").around(anchor, DENVER)
    assert dt.datetime(2026, 3, 8, 9, 0, tzinfo=DENVER) == earliest
    assert (9, 0) == (earliest.hour, earliest.minute)
    assert dt.timedelta(hours=23) == _elapsed(anchor, earliest)
    assert dt.datetime(2026, 3, 14, 9, 0) == latest.replace(tzinfo=None)


def test_hours_are_elapsed_time_across_dst() -> None:
    """24 h after 09:00 MST on the day before the spring change is 10:00 MDT."""
    anchor = dt.datetime(2026, 3, 7, 9, 0, tzinfo=DENVER)
    earliest, _ = StepWindow.after("24 h", "48 h").around(anchor, DENVER)
    assert dt.timedelta(hours=24) == _elapsed(anchor, earliest)
    assert 10 == earliest.hour


def test_before_window_across_autumn_change() -> None:
    """1 d before 09:00 GMT on the October change day (25 Oct 2026) is 09:00 BST, 25 h earlier."""
    anchor = dt.datetime(2026, 10, 25, 9, 0, tzinfo=LONDON)
    earliest, latest = StepWindow.before("1 d", "0 d").around(anchor, LONDON)
    assert (dt.datetime(2026, 10, 24, 9, 0), "BST") == (
        earliest.replace(tzinfo=None),
        earliest.tzname(),
    )
    assert dt.timedelta(hours=25) == _elapsed(earliest, anchor)
    assert anchor == latest


def test_wall_time_in_a_gap_moves_forward() -> None:
    """02:30 does not exist on the spring-change day in Denver: it becomes 03:30 MDT."""
    anchor = dt.datetime(2026, 3, 7, 2, 30, tzinfo=DENVER)
    earliest, _ = StepWindow.after("1 d", "1 d").around(anchor, DENVER)
    assert (3, 30, "MDT") == (earliest.hour, earliest.minute, earliest.tzname())


def test_ambiguous_wall_time_takes_first_occurrence() -> None:
    """01:30 happens twice on the autumn-change day in Denver: the first (MDT) is taken."""
    anchor = dt.datetime(2026, 10, 31, 1, 30, tzinfo=DENVER)
    earliest, _ = StepWindow.after("1 d", "1 d").around(anchor, DENVER)
    assert (1, 30, "MDT") == (earliest.hour, earliest.minute, earliest.tzname())


@given(step_windows(), st.datetimes(timezones=st.just(DENVER)))
def test_window_never_ends_before_it_starts(window: StepWindow, anchor: dt.datetime) -> None:
    """For any valid window and anchor, earliest <= latest."""
    earliest, latest = window.around(anchor, DENVER)
    assert dt.timedelta(0) <= _elapsed(earliest, latest)


@given(step_windows())
def test_window_side_matches_its_position(window: StepWindow) -> None:
    """An after window never starts before its anchor; a before window never ends after it."""
    anchor = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
    earliest, latest = window.around(anchor, dt.UTC)
    if window.side is WindowSide.AFTER:
        assert anchor <= earliest
    else:
        assert latest <= anchor


# -- steps --------------------------------------------------------------------


def test_every_needs_each_dosing() -> None:
    """A course_start step with every is refused at $.every."""
    with pytest.raises(ValidationError) as info:
        _step(anchor=PlanAnchor.COURSE_START, every=2)
    assert ("$.every", "every needs anchor 'each_dosing', not 'course_start'") == tuple(
        info.value.problems[0]
    )


def test_every_and_doses_together_are_refused() -> None:
    """A step selects dosing sessions by every or by doses, not both."""
    with pytest.raises(ValidationError) as info:
        _step(every=2, doses=(1,))
    assert "give every or doses, not both" in str(info.value)


@pytest.mark.parametrize("doses", [(0,), (1, 1), ("1",), 3])
def test_bad_dose_numbers_are_refused(doses: object) -> None:
    """Dose numbers are distinct whole numbers from 1."""
    with pytest.raises(ValidationError) as info:
        _step(doses=doses)
    assert "$.doses" == info.value.problems[0].path


@pytest.mark.parametrize(("every", "path"), [(0, "$.every"), ("2", "$.every"), (True, "$.every")])
def test_bad_every_is_refused(every: object, path: str) -> None:
    """The every of a step is a whole number, 1 or more."""
    with pytest.raises(ValidationError) as info:
        _step(every=every)
    assert path == info.value.problems[0].path


def test_assessment_step_needs_an_instrument() -> None:
    """An assessment with nothing to give cannot be met."""
    with pytest.raises(ValidationError) as info:
        _step(kind=StepKind.ASSESSMENT)
    assert "$.instruments" == info.value.problems[0].path


def test_duration_must_be_a_positive_duration() -> None:
    """A zero duration is refused; a mass is a unit error naming the field."""
    with pytest.raises(ValidationError):
        _step(duration=quantity("0 min"))
    with pytest.raises(Exception, match="duration="):
        _step(duration="2 mg")


def test_kind_must_be_a_step_kind() -> None:
    """A string kind raises ValidationError naming the choices."""
    with pytest.raises(ValidationError) as info:
        _step(kind="integration")
    assert "preparation, integration, assessment, follow_up" in str(info.value)


def test_instruments_listed_twice_are_refused() -> None:
    """Each instrument is named once."""
    with pytest.raises(ValidationError) as info:
        _step(instruments=("phq9", "phq9"))
    assert "$.instruments[1]" == info.value.problems[0].path


@pytest.mark.parametrize(
    ("changes", "selected"),
    [
        ({}, [1, 2, 3, 4, 5, 6]),
        ({"every": 2}, [2, 4, 6]),
        ({"every": 3}, [3, 6]),
        ({"doses": (5, 1)}, [1, 5]),
    ],
)
def test_selects_dosing_sessions(changes: dict[str, object], selected: list[int]) -> None:
    """The every n selects n, 2n, ...; doses selects the listed numbers."""
    step = _step(**changes)
    assert selected == [n for n in range(1, 7) if step.selects(n)]


def test_to_dict_writes_the_file_format() -> None:
    """to_dict omits defaults and writes the window under its side."""
    step = _step(duration=quantity("90 min"), every=2, required=False)
    assert {
        "id": "integrate",
        "title": "Integration",
        "kind": "integration",
        "anchor": "each_dosing",
        "after": ["0 h", "48 h"],
        "every": 2,
        "duration": "90 min",
        "required": False,
    } == step.to_dict()
