"""Checking a session record, or a whole course, against its protocol.

Every check ends one of three ways: *evaluated* (passed, or produced findings),
*not evaluable* (the record lacks what the check needs: it is listed with the
missing path and the report says ``incomplete``, never ``compliant``), or
*not configured* (the protocol sets no value for it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

import attrs

from kapproto._compliance_report import ComplianceReport, NotEvaluable, Status, _Results
from kapproto._courses import Course
from kapproto._dose_checks import DoseCheck, check_dose_limits, first_session_unknown
from kapproto._findings import Finding, Severity, finding
from kapproto._monitoring import _check_monitoring
from kapproto._protocols import Protocol
from kapproto._sessions import Reference, Session, SessionKind, SessionStatus
from kapproto._validators import instant
from kapproto.exceptions import ValidationError, join_path
from kapproto.screening import Decision

__all__ = [
    "ComplianceReport",
    "NotEvaluable",
    "Status",
    "check_course",
    "check_session",
]

# Flags of an instrument score that raise `assessment.suicidal_ideation`.
_RISK_FLAGS = frozenset({"suicidal_ideation", "high_risk"})


def _check_assessments(session: Session, out: _Results) -> None:
    for i, (response, score) in enumerate(session.scores()):
        raised = sorted(score.flags & _RISK_FLAGS)
        if raised:
            out.add(
                finding(
                    "assessment.suicidal_ideation",
                    f"{response.instrument} at {response.time.isoformat()} raised {', '.join(raised)}: "
                    "a suicide-risk assessment is needed",
                    path=f"$.assessments[{i}]",
                )
            )


def _check_doses(
    session: Session, protocol: Protocol, course: Course | None, out: _Results
) -> None:
    first_session: bool | None = None
    if course is not None:
        dosing = course.dosing_sessions
        first_session = bool(dosing) and dosing[0].id == session.id
    result: DoseCheck = check_dose_limits(
        session.administrations,
        protocol.doses,
        weight=session.weight,
        first_session=first_session,
    )
    for f in result.findings:
        out.add(attrs.evolve(f, path=join_path("$", f.path)))
    for check, path, reason in result.not_evaluable:
        out.missing(check, path, reason)
    for check in result.not_configured:
        out.unset(check)
    if first_session is None:
        # Without the course nobody knows whether this is the first dosing session.
        # A total within the first-session limit passes either way; one above it,
        # or a per-kg one without a weight, cannot be judged, and is never passed.
        for check, path, reason in first_session_unknown(
            session.administrations,
            protocol.doses,
            weight=session.weight,
            why="without the course it is unknown whether this is the first dosing session",
        ):
            out.missing(check, path, reason)


def _check_schedule(session: Session, protocol: Protocol, course: Course, out: _Results) -> None:
    param = protocol.schedule.min_interval
    if param is None:
        out.unset("schedule.min_interval")
        return
    first = session.first_administration
    dosing = [s for s in course.dosing_sessions if s.first_administration]
    ids = [s.id for s in dosing]
    # check_session has made sure that the session is one of the course's effective ones
    if first is None or ids.index(session.id) == 0:
        return
    prev = dosing[ids.index(session.id) - 1]
    assert prev.first_administration is not None
    gap = instant(first.start) - instant(prev.first_administration.start)
    required = dt.timedelta(minutes=param.value.magnitude)
    earliest = instant(prev.first_administration.start) + required
    if required % dt.timedelta(days=1) == dt.timedelta(0):
        # Whole days keep their wall-clock meaning in the course's zone (DESIGN: Course),
        # so weekly doses at 09:10 stay 7 d apart across a DST change.
        earliest = prev.first_administration.start.astimezone(course.timezone) + required
    if instant(first.start) < instant(earliest):
        out.add(
            finding(
                "schedule.interval_too_short",
                f"{gap.total_seconds() / 3600:g} h after dosing session {prev.id!r}; the protocol "
                f"requires at least {required.total_seconds() / 3600:g} h",
                path=f"$.administrations[{session.administrations.index(first)}].start",
                source=param.cite("schedule.min_interval"),
            )
        )


def _check_screening(session: Session, course: Course, out: _Results) -> None:
    """Screening before the course's first dosing session (course-level paths).

    The deciding report is the last, in the order done (``course.screenings``),
    of those known to be done before the first dose. A report without a
    ``time`` listed after it may or may not be before the dose: the check is
    then not evaluable at that report's ``time``, unless every report it could
    be gives the same decision.
    """
    first = session.first_administration
    dosing = course.dosing_sessions
    if first is None or not dosing or dosing[0].id != session.id:
        return
    dose_at = instant(first.start)
    reports = course.screenings
    before = [i for i, r in enumerate(reports) if r.time is not None and instant(r.time) <= dose_at]
    last = before[-1] if before else None
    untimed = [i for i, r in enumerate(reports) if r.time is None and (last is None or i > last)]
    if untimed and (
        last is None or any(reports[i].decision is not reports[last].decision for i in untimed)
    ):
        j = untimed[0]
        reason = (
            f"screening {j} records no time, so it is unknown whether it was done before "
            f"the first dose at {first.start.isoformat()}"
        )
        if last is not None:
            reason += (
                f" and so whether it or screening {last} ({reports[last].decision.value}) decides"
            )
        out.course_not_evaluable.append(
            NotEvaluable("screening", f"$.screenings[{j}].time", reason)
        )
        return
    if last is None:
        out.course_findings.append(
            finding(
                "screening.not_done",
                f"no screening report before the dose at {first.start.isoformat()}",
                path="$.screenings",
            )
        )
        return
    report = reports[last]
    path = f"$.screenings[{last}]"
    if report.decision is Decision.INELIGIBLE:
        out.course_findings.append(
            finding(
                "screening.ineligible",
                f"screening with {report.ruleset} decided ineligible",
                path=path,
            )
        )
    elif report.decision is Decision.REVIEW:
        out.course_findings.append(
            finding(
                "screening.review",
                f"screening with {report.ruleset} needs clinician review",
                path=path,
            )
        )
    elif report.decision is Decision.INCOMPLETE:
        missing = ", ".join(report.missing) or "facts"
        out.course_not_evaluable.append(
            NotEvaluable(
                "screening",
                path,
                f"the last screening before dosing was incomplete (missing {missing})",
            )
        )


def _protocol_mismatch(named: Reference, applied: Reference, what: str) -> Finding:
    """``protocol.mismatch`` at ``$.protocol``: the record names another protocol than the one applied."""
    return finding(
        "protocol.mismatch",
        f"the {what} names protocol {named}, but was checked against {applied}",
        path="$.protocol",
    )


def _require_checkable(session: Session, course: Course | None) -> None:
    """Refuse a session that is not a record to check (on its own or in ``course``).

    Raises:
        ValidationError: The session was entered in error, or ``course`` is
            given and the session is not one of its effective sessions.
    """
    if session.status is SessionStatus.ENTERED_IN_ERROR:
        raise ValidationError(
            f"session {session.id!r} was entered in error: it is no record of what "
            "happened, so there is nothing to check",
            path="$.status",
        )
    if course is None or session in course.effective_sessions:
        return
    same_id = [s for s in course.sessions if s.id == session.id]
    superseded_by = [s.id for s in course.sessions if s.supersedes == session.id]
    if not same_id:
        why = "the course has no session with that id"
    elif superseded_by:
        why = f"it is superseded by {superseded_by[-1]!r}"
    elif same_id[0].status is SessionStatus.ENTERED_IN_ERROR:
        why = "the course's record of it was entered in error"
    else:
        why = "it differs from the course's record with that id"
    raise ValidationError(
        f"session {session.id!r} is not an effective session of course {course.id!r}: {why}",
        path="$.id",
    )


def _acknowledge(session: Session, findings: list[Finding]) -> list[Finding]:
    acked = {a.code for a in session.acknowledgements}
    if not acked:
        return findings
    return [
        attrs.evolve(f, acknowledged=True)
        if f.code in acked and f.severity is not Severity.ERROR
        else f
        for f in findings
    ]


def _session_results(
    session: Session,
    protocol: Protocol,
    course: Course | None,
    expected: frozenset[Reference],
) -> _Results:
    """Every check of one session; ``expected`` are the protocol references it may name."""
    out = _Results()
    if session.kind is SessionKind.DOSING:
        if not session.administrations:
            out.add(
                finding(
                    "dose.withheld",
                    f"dose withheld: {session.withheld_reason}",
                    path="$.withheld_reason",
                )
            )
        else:
            _check_doses(session, protocol, course, out)
            _check_monitoring(session, protocol, out)
            if course is not None:
                _check_schedule(session, protocol, course, out)
                _check_screening(session, course, out)
    _check_assessments(session, out)
    if session.protocol is not None and session.protocol not in expected:
        out.add(_protocol_mismatch(session.protocol, protocol.ref, f"session {session.id!r}"))
    out.findings = _acknowledge(session, out.findings)
    out.course_findings = _acknowledge(session, out.course_findings)
    return out


def check_session(
    session: Session,
    protocol: Protocol,
    *,
    course: Course | None = None,
    catalog: Any = None,
) -> ComplianceReport:
    """Check one session record against a protocol.

    Args:
        session: The session as recorded.
        protocol: The protocol it ran under. Checking it against another one
            (a "what if") is allowed: when the session's own ``protocol``
            names a different protocol or version, the report ends with a
            ``protocol.mismatch`` warning at ``$.protocol``.
        course: The course it belongs to; without it the course checks
            (``schedule.*``, ``screening.*``) are not part of the report, as
            DESIGN.md says. ``first_session_max`` needs to know whether this is
            the course's first dosing session: without the course a total
            within it passes either way, and a total above it is *not
            evaluable* (``dose.first_session_max``), never passed.
        catalog: Reserved for resolving the protocol's references (templates).

    Returns:
        The :class:`ComplianceReport`; ``report.ok`` only when every check was
        evaluated and no ERROR finding was produced.

    Raises:
        ValidationError: The session's ``status`` is ``entered_in_error``
            (path ``$.status``): it is no record of what happened, and a report
            on it would read as one. Or ``course`` is given and the session is
            not one of its effective sessions (path ``$.id``): another id, a
            record superseded by an amendment, or a copy that differs from the
            course's record. The course checks would otherwise be judged
            against the wrong sessions.

    Example:
        >>> from kapproto import Session, check_session, from_json, get_protocol
        >>> session = from_json(open("examples/sessions/dose-above-limit.json").read(), Session)
        >>> report = check_session(session, get_protocol("im-kap"))
        >>> report.status, report.codes()
        (<Status.NONCOMPLIANT: 'noncompliant'>, ['dose.above_max'])
    """
    del catalog
    _require_checkable(session, course)
    expected = frozenset({protocol.ref})
    with _within_datetime_range():
        return _session_results(session, protocol, course, expected).report(protocol, session.id)


@contextlib.contextmanager
def _within_datetime_range() -> Iterator[None]:
    """Turn a protocol window that runs past year 9999 (or before year 1) into a ValidationError.

    A record's times may lie anywhere datetime can hold them; a protocol's
    windows (at most 150 years, see ``LONGEST_DURATION``) added to a time at
    the very end of that range cannot be placed on the calendar.
    """
    try:
        yield
    except OverflowError:
        raise ValidationError(
            "a protocol window from one of the record's times runs outside the dates "
            "a datetime can hold (years 1 to 9999); the record cannot be checked"
        ) from None


def _check_integration(course: Course, protocol: Protocol, catalog: Any, out: _Results) -> None:
    """The protocol's integration plan against the course (``integration.*``, ``assessment.missing``).

    Activities whose window has not closed by the end of the last recorded
    session cannot be judged yet: they are not evaluable, never passed.
    """
    from kapproto._catalog import Catalog

    if protocol.template is None:
        out.unset("integration.template")
        return
    shelf = catalog if catalog is not None else Catalog.builtin()
    template = shelf.template(protocol.template.id, protocol.template.version)
    if not course.sessions:
        out.missing("integration", "$.sessions", "the course has no sessions")
        return
    plan = template.for_course(course)
    record_end = max(instant(s.end) for s in course.sessions)
    closed = tuple(a for a in plan.activities if instant(a.latest) <= record_end)
    for activity in plan.activities:
        if instant(activity.latest) <= record_end or not activity.required:
            continue
        # met on time already: nothing to report; otherwise it may still be met
        alone = attrs.evolve(plan, activities=(activity,), conflicts=())
        if alone.adherence(course):
            out.missing(
                f"integration.{activity.step_id}",
                "$.sessions",
                f"{activity.title!r} may still happen until {activity.latest.isoformat()}, "
                "after the last recorded session",
            )
    judged = attrs.evolve(plan, activities=closed, conflicts=())
    out.course_findings.extend(judged.adherence(course))


def check_course(course: Course, protocol: Protocol, *, catalog: Any = None) -> ComplianceReport:
    """Check every session of a course, and the course as a whole, against a protocol.

    Sessions entered in error or superseded by a correction are not checked.
    Paths in the report are relative to the course (``$.sessions[2].vitals``).
    When the course names another protocol (or version) than ``protocol``, the
    report has a ``protocol.mismatch`` warning at ``$.protocol``; a session
    naming a protocol that is neither ``protocol`` nor the course's gets one at
    ``$.sessions[i].protocol``.

    Example:
        >>> from kapproto import Course, check_course, from_json, get_protocol
        >>> course = from_json(open("examples/sessions/course.json").read(), Course)
        >>> report = check_course(course, get_protocol("im-kap"))
        >>> report.status, report.codes()
        (<Status.COMPLIANT: 'compliant'>, [])
    """
    with _within_datetime_range():
        return _course_results(course, protocol, catalog).report(protocol, course.id)


def _course_results(course: Course, protocol: Protocol, catalog: Any) -> _Results:
    out = _Results()
    if course.protocol != protocol.ref:
        out.course_findings.append(
            _protocol_mismatch(course.protocol, protocol.ref, f"course {course.id!r}")
        )
    expected = frozenset({protocol.ref, course.protocol})
    effective = {id(s) for s in course.effective_sessions}
    for i, session in enumerate(course.sessions):
        if id(session) in effective:
            out.merge(_session_results(session, protocol, course, expected), f"$.sessions[{i}]")
    _check_integration(course, protocol, catalog, out)
    return out
