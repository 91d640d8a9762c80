"""Tests for kapproto._activities: planned activities, conflicts and their helpers."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from kapproto import PlanConflict, PlannedActivity, StepKind, ValidationError
from kapproto._activities import dosing_problems, format_length, format_time
from kapproto.units import quantity

DENVER = zoneinfo.ZoneInfo("America/Denver")


def _activity(**changes: object) -> PlannedActivity:
    fields: dict[str, object] = {
        "step_id": "integration",
        "kind": StepKind.INTEGRATION,
        "title": "Integration session",
        "earliest": dt.datetime(2026, 3, 2, 9, tzinfo=DENVER),
        "latest": dt.datetime(2026, 3, 4, 9, tzinfo=DENVER),
        "anchor_time": dt.datetime(2026, 3, 2, 9, tzinfo=DENVER),
    }
    fields.update(changes)
    return PlannedActivity(**fields)  # type: ignore[arg-type]


def test_format_time_is_locale_free_with_zone_abbreviation() -> None:
    """Weekday, ISO date, 24-hour time and the zone's abbreviation."""
    assert "Sun 2026-03-08 03:30 MDT" == format_time(dt.datetime(2026, 3, 8, 3, 30, tzinfo=DENVER))
    assert "Mon 2026-03-02 16:00 UTC" == format_time(dt.datetime(2026, 3, 2, 16, tzinfo=dt.UTC))


def test_format_length_uses_hours_when_whole() -> None:
    """120 min reads '2 h'; 90 min stays '90 min'."""
    assert ("2 h", "90 min", "45 min") == tuple(
        format_length(quantity(t)) for t in ("120 min", "1.5 h", "45 min")
    )


def test_label_names_the_dosing_session() -> None:
    """An activity anchored at dose 2 says so; one anchored at the course start does not."""
    assert "Integration session (dosing session 2)" == _activity(dose_number=2).label
    assert "Integration session" == _activity().label


def test_window_text() -> None:
    """The window reads earliest – latest."""
    assert "Mon 2026-03-02 09:00 MST – Wed 2026-03-04 09:00 MST" == _activity().window


def test_contains_compares_instants_in_the_repeated_hour() -> None:
    """01:10 MST (second 01:xx of 1 Nov) is after 01:30 MDT, though its wall time is earlier."""
    first = dt.datetime(2026, 11, 1, 1, 30, tzinfo=DENVER)
    second = dt.datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=DENVER)
    activity = _activity(earliest=first, latest=first + dt.timedelta(hours=1), anchor_time=first)
    assert activity.contains(second)
    assert not activity.contains(first - dt.timedelta(minutes=1))


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"latest": dt.datetime(2026, 3, 1, 9, tzinfo=DENVER)}, "$.latest"),
        ({"earliest": dt.datetime(2026, 3, 2, 9)}, "$.earliest"),
        ({"kind": "integration"}, "$.kind"),
        ({"dose_number": 0}, "$.dose_number"),
        ({"required": "yes"}, "$.required"),
        ({"step_id": ""}, "$.step_id"),
    ],
)
def test_malformed_activity_is_refused(changes: dict[str, object], path: str) -> None:
    """Bad values raise ValidationError at their path."""
    with pytest.raises(ValidationError) as info:
        _activity(**changes)
    assert path == info.value.problems[0].path


def test_duration_must_be_a_duration() -> None:
    """A mass is not a session length."""
    with pytest.raises(Exception, match="duration=40 mg must be a DURATION"):
        _activity(duration=quantity("40 mg"))


def test_conflict_needs_an_aware_time() -> None:
    """A conflict's dosing time is timezone-aware."""
    with pytest.raises(ValidationError) as info:
        PlanConflict("integration", 0, 2, dt.datetime(2026, 3, 3, 9), "x")
    assert "$.dosing_time" == info.value.problems[0].path


def test_dosing_problems_lists_each_bad_time() -> None:
    """Naive, non-datetime and out-of-order entries are each reported at their index."""
    aware = dt.datetime(2026, 3, 9, 9, tzinfo=DENVER)
    problems = dosing_problems([aware, dt.datetime(2026, 3, 10), "x", aware - dt.timedelta(days=1)])
    assert ["$.dosing[1]", "$.dosing[2]", "$.dosing[3]"] == [p for p, _ in problems]
    assert "naive datetime" in problems[0][1]
    assert "not a datetime" in problems[1][1]
    assert "must be sorted and distinct" in problems[2][1]
