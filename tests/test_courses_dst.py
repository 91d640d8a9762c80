"""A course in real time across a DST change: score order, screening, integration, the whole check.

Python compares and subtracts two datetimes that share one ``ZoneInfo`` by wall
clock: on 2026-11-01 in America/Denver, 01:20 MST (08:20Z) sorts before 01:30
MDT (07:30Z). A course built in Python with zone-aware datetimes must be ordered
and judged exactly as the same course read from JSON with fixed offsets.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from kapproto import (
    ComplianceReport,
    Course,
    InstrumentResponse,
    Reference,
    Session,
    SessionKind,
    Status,
    check_course,
    from_dict,
    get_protocol,
)
from kapproto._findings import Severity

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "sessions"
DENVER = zoneinfo.ZoneInfo("America/Denver")
UTC = dt.UTC
T = TypeVar("T")

# 2026-11-01, America/Denver: 01:10 MDT, 01:30 MDT, then 01:20 MST after the clocks go back.
MDT_0110 = dt.datetime(2026, 11, 1, 1, 10, tzinfo=DENVER)
MDT_0130 = dt.datetime(2026, 11, 1, 1, 30, tzinfo=DENVER)
MST_0120 = dt.datetime(2026, 11, 1, 1, 20, tzinfo=DENVER, fold=1)


def remap(obj: T, move: Callable[[dt.datetime], dt.datetime]) -> T:
    """``obj`` with every datetime inside it (records, tuples) replaced by ``move(datetime)``."""
    if isinstance(obj, dt.datetime):
        return move(obj)  # type: ignore[return-value]
    if isinstance(obj, tuple):
        return tuple(remap(item, move) for item in obj)  # type: ignore[return-value]
    if attrs.has(type(obj)):
        changes = {
            f.alias: remap(getattr(obj, f.name), move)
            for f in attrs.fields(cast(Any, type(obj)))
            if f.init
            and (
                isinstance(getattr(obj, f.name), dt.datetime | tuple)
                or attrs.has(type(getattr(obj, f.name)))
            )
        }
        return attrs.evolve(obj, **changes) if changes else obj  # type: ignore[misc]
    return obj


def example_course() -> Course:
    """The example course (fixed UTC offsets, as JSON gives them)."""
    return from_dict(json.loads((EXAMPLES / "course.json").read_text(encoding="utf-8")), Course)


def moved(course: Course, shift: dt.timedelta, zone: zoneinfo.ZoneInfo | None) -> Course:
    """The course ``shift`` later in real time, its datetimes in ``zone`` (or their own offsets)."""
    if zone is None:
        return remap(course, lambda d: d + shift)
    return remap(course, lambda d: (d + shift).astimezone(zone))


def verdict(report: ComplianceReport) -> tuple[Any, ...]:
    """Everything a report decides: status, findings with paths, not-evaluable checks."""
    return (
        report.status,
        [(f.code, f.path, f.severity) for f in report.findings],
        [(n.check, n.path) for n in report.not_evaluable],
        report.not_configured,
    )


def test_the_dst_times_are_what_the_tests_assume() -> None:
    """07:10Z, 07:30Z, 08:20Z; and Python's own comparison gets the last two the wrong way round."""
    assert [MDT_0110, MDT_0130, MST_0120] == sorted(
        [MST_0120, MDT_0130, MDT_0110], key=lambda d: d.astimezone(UTC)
    )
    assert MST_0120.astimezone(UTC) == dt.datetime(2026, 11, 1, 8, 20, tzinfo=UTC)
    assert MST_0120 < MDT_0130


# -- scores --------------------------------------------------------------------


def _phq9(time: dt.datetime, total: int) -> InstrumentResponse:
    answers = [0] * 9
    for i in range(total):
        answers[i % 8] += 1
    return InstrumentResponse("phq9", time, answers)


def follow_up_course(*times_and_totals: tuple[dt.datetime, int]) -> Course:
    """A course of one follow-up session, 00:30 MDT to 03:00 MST, with PHQ-9 scores."""
    session = Session(
        id="fu-1",
        patient="p-001",
        kind=SessionKind.FOLLOW_UP,
        start=dt.datetime(2026, 11, 1, 0, 30, tzinfo=DENVER),
        end=dt.datetime(2026, 11, 1, 3, 0, tzinfo=DENVER),
        assessments=tuple(_phq9(t, n) for t, n in times_and_totals),
    )
    return Course("c-1", "p-001", Reference("im-kap", "1"), DENVER, sessions=(session,))


def test_scores_are_in_real_time_order_across_the_autumn_change() -> None:
    """01:20 MST comes after 01:30 MDT, so it is the latest score and the outcome's end point."""
    course = follow_up_course((MDT_0110, 14), (MST_0120, 3), (MDT_0130, 8))
    assert [(MDT_0110, 14), (MDT_0130, 8), (MST_0120, 3)] == [
        (t, s.total) for t, s in course.scores("phq9")
    ]
    outcome = course.outcome("phq9")
    assert outcome is not None
    assert (14, 3, -11) == (
        outcome.baseline[1].total,
        outcome.latest[1].total,
        outcome.change.absolute,
    )
    assert MST_0120 == outcome.latest[0]


@given(st.permutations([(MDT_0110, 14), (MDT_0130, 8), (MST_0120, 3)]))
def test_score_order_does_not_depend_on_the_record_order(
    recorded: list[tuple[dt.datetime, int]],
) -> None:
    """However the assessments are listed, scores come back 07:10Z, 07:30Z, 08:20Z."""
    course = follow_up_course(*recorded)
    assert [14, 8, 3] == [s.total for _, s in course.scores("phq9")]


def test_day_of_uses_the_course_zone_on_the_dst_day() -> None:
    """Both 01:20s of 1 November are on the same course day."""
    course = attrs.evolve(follow_up_course((MDT_0110, 5)), timezone=DENVER)
    assert course.day_of(MST_0120) == course.day_of(MDT_0110) == 1


# -- the course check --------------------------------------------------------


def _first_dose_at(moment: dt.datetime, zone: zoneinfo.ZoneInfo | None) -> Course:
    course = example_course()
    first = course.dosing_sessions[0].administrations[0].start
    return moved(course, moment - first, zone)


def _screened_at(course: Course, time: dt.datetime) -> Course:
    (report,) = course.screenings
    return attrs.evolve(course, screenings=(attrs.evolve(report, time=time),))


def screening_codes(course: Course) -> list[tuple[str, str]]:
    """The screening findings of the course check under im-kap."""
    report = check_course(course, get_protocol("im-kap"))
    return [(f.code, f.path) for f in report.findings if f.code.startswith("screening.")]


def test_screening_at_0120_mst_is_after_a_dose_at_0130_mdt() -> None:
    """A screening at 01:20 MST (08:20Z) came 50 min after the first dose at 01:30 MDT (07:30Z)."""
    course = _screened_at(_first_dose_at(MDT_0130, DENVER), MST_0120)
    first = course.dosing_sessions[0].administrations[0].start
    assert first.tzinfo is course.screenings[0].time.tzinfo  # type: ignore[union-attr]
    assert [("screening.not_done", "$.screenings")] == screening_codes(course)


def test_screening_at_0110_mdt_is_before_a_dose_at_0130_mdt() -> None:
    """The same course screened at 01:10 MDT (07:10Z) was screened before dosing."""
    course = _screened_at(_first_dose_at(MDT_0130, DENVER), MDT_0110)
    assert [] == screening_codes(course)


def test_a_dose_at_0120_mst_comes_after_a_screening_at_0130_mdt() -> None:
    """Screened at 01:30 MDT (07:30Z), dosed at 01:20 MST (08:20Z): screened first."""
    course = _screened_at(_first_dose_at(MST_0120, DENVER), MDT_0130)
    assert [] == screening_codes(course)


# Real-time anchors for the first administration of one dosing session: around the
# spring (2026-03-08 09:00Z) and the autumn (2026-11-01 08:00Z) changes in Denver.
_AROUND_CHANGES = st.sampled_from(
    [dt.datetime(2026, 3, 8, 9, tzinfo=UTC), dt.datetime(2026, 11, 1, 8, tzinfo=UTC)]
)


def moments(course: Course) -> list[dt.datetime]:
    """Every datetime in the course, in real-time order."""
    found: list[dt.datetime] = []

    def keep(moment: dt.datetime) -> dt.datetime:
        found.append(moment)
        return moment

    remap(course, keep)
    return sorted(set(found), key=lambda d: d.astimezone(UTC))


@settings(max_examples=60, deadline=None)
@given(change=_AROUND_CHANGES, minutes=st.integers(-240, 240), data=st.data())
def test_check_does_not_depend_on_fixed_offset_or_iana_zone(
    change: dt.datetime, minutes: int, data: st.DataObject
) -> None:
    """The course moved so that one of its moments lies near a DST change is judged the same either way.

    One copy keeps the fixed offsets JSON gives; the other carries ZoneInfo("America/Denver")
    on every datetime (the same instants), so Python's own arithmetic would use wall clock.
    """
    course = example_course()
    anchor = data.draw(st.sampled_from(moments(course)))
    shift = change + dt.timedelta(minutes=minutes) - anchor
    fixed, zoned = moved(course, shift, None), moved(course, shift, DENVER)
    assert zoned.sessions[1].start.tzinfo is DENVER
    protocol = get_protocol("im-kap")
    assert verdict(check_course(fixed, protocol)) == verdict(check_course(zoned, protocol))


def test_an_activity_due_at_0130_mdt_is_judged_by_a_record_ending_0120_mst() -> None:
    """The record ends at 08:20Z, after the integration due by 07:30Z: it is missing, not still open.

    Dose 3 at 01:30 MDT on 30 October puts its integration window's end at 01:30 MDT on
    1 November; the integration session is dropped, and a follow-up ends the record at
    01:20 MST, 50 min later in real time but earlier on the wall clock.
    """
    course = example_course()
    dose_3 = course.dosing_sessions[2].administrations[0].start
    zoned = moved(course, dt.datetime(2026, 10, 30, 1, 30, tzinfo=DENVER) - dose_3, DENVER)
    follow_up = Session(
        id="fu-1",
        patient="p-001",
        kind=SessionKind.FOLLOW_UP,
        start=dt.datetime(2026, 11, 1, 0, 30, tzinfo=DENVER),
        end=MST_0120,
    )
    kept = tuple(s for s in zoned.sessions if s.id not in {"int-3", "fu-1"})
    zoned = attrs.evolve(zoned, sessions=(*kept, follow_up))
    report = check_course(zoned, get_protocol("im-kap"))
    assert (
        Status.NONCOMPLIANT,
        [("integration.missing", "$.sessions", Severity.ERROR)],
        [("integration.follow-up-1wk", "$.sessions")],
    ) == verdict(report)[:3]
    fixed = remap(zoned, lambda d: d.astimezone(dt.timezone(d.utcoffset())))  # type: ignore[arg-type]
    assert verdict(report) == verdict(check_course(fixed, get_protocol("im-kap")))
