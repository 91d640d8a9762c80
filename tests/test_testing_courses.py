"""Property tests of the course checks over generated courses (kapproto.testing: courses and their violations)."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapproto import (
    Catalog,
    Course,
    Parameter,
    Protocol,
    Reference,
    Schedule,
    SessionKind,
    Status,
    check_course,
    check_session,
    finding_catalogue,
    get_protocol,
    get_template,
    quantity,
)
from kapproto.serialization import from_json, to_json
from kapproto.testing import (
    course_violation_codes,
    course_violations,
    courses,
    courses_missing_a_record,
)

BUILTIN = sorted({pid for pid, _ in Catalog.builtin().protocols.entries})
CASES = [(pid, code) for pid in BUILTIN for code in course_violation_codes(pid)]
FEW = settings(max_examples=15, deadline=None)


def clinic(protocol_id: str, **changes: object) -> Protocol:
    """A built-in protocol changed as a clinic might change it."""
    return attrs.evolve(get_protocol(protocol_id), id="clinic", **changes)  # type: ignore[arg-type]


def weekly(interval: str) -> Schedule:
    return Schedule(Parameter(quantity(interval)))


# Clinic protocols that reach what the built-in ones leave unset: a minimum
# interval (in whole days, kept by the wall clock, and in hours), another
# template, no rule set and no template at all.
CLINICS = {
    "six-days": clinic("im-kap", schedule=weekly("6 d")),
    "twenty-hours": clinic("esketamine-trd", schedule=weekly("20 h")),
    "guided": clinic("sl-kap", template=Reference("kap-guided-4-6", "1")),
    "bare": clinic("sc-racemic", ruleset=None, template=None),
}
CLINIC_CASES = [(name, code) for name, p in CLINICS.items() for code in course_violation_codes(p)]


def dosing_sessions_are_spaced(course: Course, protocol: Protocol) -> bool:
    """Every pair of dosing sessions at least min_interval apart (3 days without one)."""
    interval = protocol.schedule.min_interval
    least = dt.timedelta(days=3 if interval is None else 0)
    if interval is not None:
        least = dt.timedelta(minutes=interval.value.magnitude) - dt.timedelta(hours=1)  # DST
    return all(gap >= least for gap in course.intervals())


@pytest.mark.parametrize("protocol", [*BUILTIN, *CLINICS.values()], ids=[*BUILTIN, *CLINICS])
def test_generated_courses_comply(protocol: str | Protocol) -> None:
    """Every course from courses(p) is COMPLIANT under check_course(p), with no finding or gap."""
    chosen = get_protocol(protocol) if isinstance(protocol, str) else protocol

    @FEW
    @given(courses(chosen))
    def check(course: Course) -> None:
        report = check_course(course, chosen)
        assert (Status.COMPLIANT, [], ()) == (report.status, report.codes(), report.not_evaluable)
        assert 1 <= len(course.dosing_sessions) <= 3
        assert dosing_sessions_are_spaced(course, chosen)
        for session in course.effective_sessions:
            assert check_session(session, chosen, course=course).ok

    check()


@settings(max_examples=10, deadline=None)
@given(courses())
def test_courses_without_protocol_comply_with_their_own(course: Course) -> None:
    """courses() with no protocol draws a built-in one and complies with the one it names."""
    protocol = get_protocol(course.protocol.id, course.protocol.version)
    assert check_course(course, protocol).ok


def expect_only(code: str, report: object) -> None:
    """The report has exactly ``code``; NONCOMPLIANT for an ERROR code, else COMPLIANT."""
    error = finding_catalogue()[code].severity.value == "error"
    status = Status.NONCOMPLIANT if error else Status.COMPLIANT
    assert (status, [code], ()) == (
        report.status,  # type: ignore[attr-defined]
        report.codes(),  # type: ignore[attr-defined]
        report.not_evaluable,  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize(("protocol_id", "code"), CASES)
def test_each_course_violation_gives_exactly_its_code(protocol_id: str, code: str) -> None:
    """course_violations(p, code): check_course gives that code alone; an ERROR makes it NONCOMPLIANT."""
    protocol = get_protocol(protocol_id)

    @settings(max_examples=10, deadline=None)
    @given(course_violations(protocol, code))
    def check(course: Course) -> None:
        expect_only(code, check_course(course, protocol))

    check()


@pytest.mark.parametrize(("name", "code"), CLINIC_CASES)
def test_course_violations_of_clinic_protocols(name: str, code: str) -> None:
    """The same under clinic protocols: a min_interval, another template, no rule set or template."""
    protocol = CLINICS[name]

    @settings(max_examples=8, deadline=None)
    @given(course_violations(protocol, code))
    def check(course: Course) -> None:
        expect_only(code, check_course(course, protocol))

    check()


def test_clinic_protocols_reach_the_codes_builtin_ones_cannot() -> None:
    """min_interval gives schedule.interval_too_short; a bare protocol still has the screening codes."""
    assert "schedule.interval_too_short" in course_violation_codes(CLINICS["six-days"])
    assert "schedule.interval_too_short" in course_violation_codes(CLINICS["twenty-hours"])
    assert ("screening.ineligible", "screening.not_done", "screening.review") == (
        course_violation_codes(CLINICS["bare"])
    )


@pytest.mark.parametrize("code", ["dose.above_first_session_max", "screening.review"])
def test_check_session_with_the_course_finds_it_too(code: str) -> None:
    """A course violation tied to the first dosing session is found by check_session(course=...)."""
    protocol = get_protocol("esketamine-trd")

    @settings(max_examples=10, deadline=None)
    @given(course_violations(protocol, code))
    def check(course: Course) -> None:
        first, *later = course.dosing_sessions
        assert [code] == check_session(first, protocol, course=course).codes()
        for session in later:
            assert check_session(session, protocol, course=course).ok

    check()


def test_too_soon_is_found_at_the_session_that_came_too_soon() -> None:
    """schedule.interval_too_short is on a later dosing session, less than min_interval after the one before."""
    protocol = CLINICS["six-days"]
    interval = dt.timedelta(days=6)

    @settings(max_examples=10, deadline=None)
    @given(course_violations(protocol, "schedule.interval_too_short"))
    def check(course: Course) -> None:
        assert min(course.intervals()) < interval
        found = [
            s.id
            for s in course.dosing_sessions
            if check_session(s, protocol, course=course).codes() == ["schedule.interval_too_short"]
        ]
        assert 1 == len(found)
        assert found[0] != course.dosing_sessions[0].id

    check()


def test_first_session_above_its_limit_is_not_judged_without_the_course() -> None:
    """Checked alone, a day-1 session above first_session_max is INCOMPLETE, never passed."""
    protocol = get_protocol("esketamine-trd")

    @settings(max_examples=10, deadline=None)
    @given(course_violations(protocol, "dose.above_first_session_max"))
    def check(course: Course) -> None:
        report = check_session(course.dosing_sessions[0], protocol)
        assert (Status.INCOMPLETE, []) == (report.status, report.codes())
        assert ["dose.first_session_max"] == [n.check for n in report.not_evaluable]

    check()


@pytest.mark.parametrize("code", ["integration.missing", "integration.late", "assessment.missing"])
def test_integration_violations_change_only_non_dosing_sessions(code: str) -> None:
    """An integration violation leaves the dosing sessions alone and every window judged."""
    protocol = get_protocol("im-kap")

    @settings(max_examples=10, deadline=None)
    @given(course_violations(protocol, code))
    def check(course: Course) -> None:
        report = check_course(course, protocol)
        assert all(f.path.startswith("$.sessions") for f in report.findings)
        for session in course.dosing_sessions:
            assert check_session(session, protocol, course=course).ok
        # kap-weekly-3 asks for one session per activity, and has no assessment steps
        plan = get_template("kap-weekly-3").for_course(course)
        visits = [s for s in course.sessions if s.kind is not SessionKind.DOSING]
        gone = 1 if code == "integration.missing" else 0
        assert len(plan.activities) - gone == len(visits)

    check()


@pytest.mark.parametrize("protocol_id", BUILTIN)
def test_removing_a_screening_record_is_never_compliant(protocol_id: str) -> None:
    """No screening: screening.not_done. An untimed screening: INCOMPLETE, at that report's time."""
    protocol = get_protocol(protocol_id)

    @FEW
    @given(courses_missing_a_record(protocol))
    def check(pair: tuple[str, Course]) -> None:
        what, course = pair
        report = check_course(course, protocol)
        if what == "$.screenings":
            assert (Status.NONCOMPLIANT, ["screening.not_done"]) == (report.status, report.codes())
            return
        assert (Status.INCOMPLETE, []) == (report.status, report.codes())
        assert [what] == [n.path for n in report.not_evaluable]

    check()


@FEW
@given(st.sampled_from(BUILTIN).flatmap(courses))
def test_course_json_round_trips(course: Course) -> None:
    """A generated course survives to_json/from_json unchanged, and so does its JSON."""
    text = to_json(course)
    again = from_json(text, Course)
    assert (course, text) == (again, to_json(again))
