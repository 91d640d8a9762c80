"""Tests for kapproto._plan_render: the Markdown schedule and the iCalendar file."""

from __future__ import annotations

import datetime as dt
import sys
import zoneinfo

import icalendar
import ics
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapproto import IntegrationPlan, PlanTemplate, get_template
from kapproto.testing import plan_templates

DENVER = zoneinfo.ZoneInfo("America/Denver")
UTC = dt.UTC


def _local(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, 0, tzinfo=DENVER)


@pytest.fixture
def weekly() -> IntegrationPlan:
    """kap-weekly-3 dated for three Monday doses in Denver, across the March DST change."""
    return get_template("kap-weekly-3").instantiate(
        dosing=[_local(2), _local(9), _local(16)], timezone=DENVER, id="course-17"
    )


# -- Markdown -----------------------------------------------------------------------


def test_markdown_is_a_table_of_windows_with_the_dosing_sessions(weekly: IntegrationPlan) -> None:
    """Header, then one row per activity and per dosing session, in time order."""
    text = weekly.to_markdown()
    lines = text.splitlines()
    assert "# Three weekly KAP dosing sessions with preparation and integration" == lines[0]
    assert (
        "Plan from template `kap-weekly-3` version 1. Times are in America/Denver; "
        "the course starts Mon 2026-03-02 09:00 MST."
    ) == lines[2]
    rows = [line for line in lines if line.startswith("| ") and "Opens" not in line]
    assert len(weekly.activities) + len(weekly.dosing) == len(rows)
    assert (
        "| Mon 2026-02-16 09:00 MST | Sun 2026-03-01 09:00 MST | Preparation session | "
        "preparation | 2 h | PHQ-9, GAD-7 |"
    ) == rows[0]
    assert "| Mon 2026-03-09 09:00 MDT | | **Dosing session 2** | dosing | | |" == rows[3]
    assert rows[4].startswith(
        "| Mon 2026-03-09 09:00 MDT | Wed 2026-03-11 09:00 MDT | Integration session (dosing session 2)"
    )
    assert "Follow-up one month after the last dose (dosing session 3) (optional)" in rows[8]


def test_markdown_lists_prompts_once_per_step_and_every_source(weekly: IntegrationPlan) -> None:
    """Prompts appear once per step; every step's source is cited."""
    text = weekly.to_markdown()
    assert 1 == text.count("- What stood out?")
    for step in get_template("kap-weekly-3").steps:
        assert f"- `{step.id}`: {step.source}" in text


def test_markdown_reports_conflicts() -> None:
    """Doses a day apart: the conflict is listed under its own heading."""
    plan = get_template("kap-weekly-3").instantiate(dosing=[_local(2), _local(3)], timezone=DENVER)
    text = plan.to_markdown()
    assert "## Windows that run into a dosing session" in text
    assert f"- {plan.conflicts[0].message}" in text


def test_markdown_escapes_table_cells() -> None:
    """A pipe in a title does not break the table."""
    data = get_template("iv-induction-6").to_dict()
    data["steps"][1]["title"] = "Integration | talk"
    plan = PlanTemplate.from_dict(data).instantiate(dosing=[_local(2)], timezone=DENVER)
    assert "Integration \\| talk (dosing session 1)" in plan.to_markdown()


# -- iCalendar ----------------------------------------------------------------------


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(UTC)


def _check_ical(plan: IntegrationPlan) -> None:
    """Parse the file with icalendar and with ics: one event per activity, same times and UIDs."""
    text = plan.to_ical()
    calendar = icalendar.Calendar.from_ical(text)
    events = list(calendar.walk("VEVENT"))
    assert len(plan.activities) == len(events)
    for i, (activity, event) in enumerate(zip(plan.activities, events, strict=True)):
        assert plan.uid(i) == str(event["UID"])
        assert _utc(activity.earliest) == event.decoded("DTSTART")
        if _utc(activity.latest) > _utc(activity.earliest):
            assert _utc(activity.latest) == event.decoded("DTEND")
        else:
            assert "DTEND" not in event
        assert activity.label == str(event["SUMMARY"])
    parsed = {e.uid: e for e in ics.Calendar(text).events}
    assert len(plan.activities) == len(parsed)
    for i, activity in enumerate(plan.activities):
        event = parsed[plan.uid(i)]
        assert _utc(activity.earliest) == event.begin.datetime
        if _utc(activity.latest) > _utc(activity.earliest):
            assert _utc(activity.latest) == event.end.datetime
        assert activity.label == event.name


def test_ical_parses_back_with_both_parsers(weekly: IntegrationPlan) -> None:
    """The built-in weekly plan round-trips through icalendar and ics."""
    _check_ical(weekly)


@settings(max_examples=40)
@given(plan_templates(max_steps=4), st.sampled_from(["UTC", "America/Denver", "Australia/Sydney"]))
def test_any_plan_parses_back_with_both_parsers(template: PlanTemplate, zone: str) -> None:
    """For generated templates, every activity is one event with the same times."""
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=zoneinfo.ZoneInfo(zone))
    dosing = [start + dt.timedelta(days=7 * n) for n in range(3)]
    _check_ical(template.instantiate(dosing=dosing, timezone=zone))


def test_ical_is_deterministic_with_stamp_from_the_plan(weekly: IntegrationPlan) -> None:
    """The same plan gives the same bytes; DTSTAMP is the course start in UTC unless given."""
    assert weekly.to_ical() == weekly.to_ical()
    assert "DTSTAMP:20260302T160000Z" in weekly.to_ical()
    stamped = weekly.to_ical(stamp=dt.datetime(2026, 1, 1, tzinfo=UTC))
    assert "DTSTAMP:20260101T000000Z" in stamped
    assert stamped.endswith("END:VCALENDAR\r\n")


def test_ical_marks_windows_transparent_and_categorised(weekly: IntegrationPlan) -> None:
    """A window is not busy time; the event's category is the step kind."""
    event = next(iter(icalendar.Calendar.from_ical(weekly.to_ical()).walk("VEVENT")))
    assert "TRANSPARENT" == str(event["TRANSP"])
    assert ["preparation"] == [str(c) for c in event["CATEGORIES"].cats]
    assert "Instruments: PHQ-9, GAD-7" in str(event["DESCRIPTION"])


def test_ical_without_the_extra_names_the_install_command(
    weekly: IntegrationPlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without icalendar: an ImportError saying pip install 'kapproto[ical]'."""
    monkeypatch.setitem(sys.modules, "icalendar", None)
    with pytest.raises(ImportError) as info:
        weekly.to_ical()
    assert "pip install 'kapproto[ical]'" in str(info.value)
    assert "icalendar" == info.value.name
