"""Checking a session record, or a whole course, against its protocol.

Every check ends one of three ways: *evaluated* (passed, or produced findings),
*not evaluable* (the record lacks what the check needs: it is listed with the
missing path and the report says ``incomplete``, never ``compliant``), or
*not configured* (the protocol sets no value for it).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

import attrs

from kapproto._dose_checks import DoseCheck, check_dose_limits
from kapproto._findings import Finding, Severity, finding
from kapproto._protocols import Anchor, Protocol
from kapproto._sessions import Course, Reference, Session, SessionKind
from kapproto._validators import instant
from kapproto._vitals import VitalSigns
from kapproto.exceptions import join_path
from kapproto.screening import Decision
from kapproto.serialization import register_document

__all__ = [
    "ComplianceReport",
    "NotEvaluable",
    "Status",
    "check_course",
    "check_session",
]

# Flags of an instrument score that raise `assessment.suicidal_ideation`.
_RISK_FLAGS = frozenset({"suicidal_ideation", "high_risk"})


class Status(enum.Enum):
    """Outcome of a compliance check.

    Example:
        >>> from kapproto import Session, check_session, from_json, get_protocol
        >>> session = from_json(open("examples/sessions/missing-recheck.json").read(), Session)
        >>> check_session(session, get_protocol("im-kap")).status
        <Status.NONCOMPLIANT: 'noncompliant'>
    """

    COMPLIANT = "compliant"
    NONCOMPLIANT = "noncompliant"
    INCOMPLETE = "incomplete"


@attrs.frozen
class NotEvaluable:
    """A check the record lacks the data for.

    Attributes:
        check: The check (protocol parameter) id, e.g. ``"monitoring.min_observation"``.
        path: JSON path of what is missing, e.g. ``"$.discharged_at"``.
        reason: What is missing, in words.

    Example:
        >>> from kapproto import Session, check_session, from_json, get_protocol
        >>> session = from_json(open("examples/sessions/no-discharge-time.json").read(), Session)
        >>> report = check_session(session, get_protocol("im-kap"))
        >>> report.status
        <Status.INCOMPLETE: 'incomplete'>
        >>> [n.check for n in report.not_evaluable]
        ['monitoring.min_observation', 'monitoring.bp_at_discharge']
    """

    check: str
    path: str
    reason: str


@register_document("compliance_report", 1)
@attrs.frozen
class ComplianceReport:
    """The result of checking a session or course against a protocol.

    Attributes:
        status: ``noncompliant`` if any ERROR finding; else ``incomplete`` if
            any check was not evaluable; else ``compliant``.
        findings: What the checks found, warnings marked if acknowledged.
        not_evaluable: Checks whose data is missing from the record.
        not_configured: Checks the protocol sets no value for.
        protocol: ``{"id", "version"}`` of the protocol applied.
        subject: Id of the session or course checked.
        kapproto_version: The kapproto version that checked it.

    Example:
        >>> from kapproto import Session, check_session, from_json, get_protocol
        >>> session = from_json(open("examples/sessions/early-discharge.json").read(), Session)
        >>> report = check_session(session, get_protocol("im-kap"))
        >>> report.ok, report.subject, str(report.protocol)
        (False, 's-101', 'im-kap@1')
        >>> [(f.code, f.path) for f in report.findings]
        [('monitoring.observation_too_short', '$.discharged_at')]
    """

    status: Status
    findings: tuple[Finding, ...]
    not_evaluable: tuple[NotEvaluable, ...]
    not_configured: tuple[str, ...]
    protocol: Reference
    subject: str
    kapproto_version: str

    @property
    def ok(self) -> bool:
        """Whether the status is :attr:`Status.COMPLIANT`."""
        return self.status is Status.COMPLIANT

    def codes(self) -> list[str]:
        """The finding codes, in order (handy in tests and scripts)."""
        return [f.code for f in self.findings]


@cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kapproto")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "unknown"


# ---------------------------------------------------------------------------
# Collecting results
# ---------------------------------------------------------------------------


@attrs.define
class _Results:
    findings: list[Finding] = attrs.Factory(list)
    # findings whose path is relative to the course, never prefixed by a session
    course_findings: list[Finding] = attrs.Factory(list)
    not_evaluable: list[NotEvaluable] = attrs.Factory(list)
    # not-evaluable checks whose path is relative to the course (a screening report)
    course_not_evaluable: list[NotEvaluable] = attrs.Factory(list)
    not_configured: list[str] = attrs.Factory(list)

    def add(self, finding_: Finding) -> None:
        self.findings.append(finding_)

    def missing(self, check: str, path: str, reason: str) -> None:
        self.not_evaluable.append(NotEvaluable(check, path, reason))

    def unset(self, check: str) -> None:
        if check not in self.not_configured:
            self.not_configured.append(check)

    def merge(self, other: _Results, prefix: str) -> None:
        self.course_findings.extend(other.course_findings)
        self.course_not_evaluable.extend(other.course_not_evaluable)
        self.findings.extend(
            attrs.evolve(f, path=join_path(prefix, f.path)) for f in other.findings
        )
        self.not_evaluable.extend(
            attrs.evolve(n, path=join_path(prefix, n.path)) for n in other.not_evaluable
        )
        for check in other.not_configured:
            self.unset(check)

    def report(self, protocol: Protocol, subject: str) -> ComplianceReport:
        findings = [*self.course_findings, *self.findings]
        not_evaluable = [*self.course_not_evaluable, *self.not_evaluable]
        if any(f.severity is Severity.ERROR for f in findings):
            status = Status.NONCOMPLIANT
        elif not_evaluable:
            status = Status.INCOMPLETE
        else:
            status = Status.COMPLIANT
        return ComplianceReport(
            status=status,
            findings=tuple(findings),
            not_evaluable=tuple(not_evaluable),
            not_configured=tuple(self.not_configured),
            protocol=protocol.ref,
            subject=subject,
            kapproto_version=_version(),
        )


# ---------------------------------------------------------------------------
# Session checks
# ---------------------------------------------------------------------------


_utc = instant  # windows in minutes and hours are measured between instants


def _anchor_time(session: Session, anchor: Anchor) -> dt.datetime | None:
    """The anchor instant, in UTC."""
    if not session.administrations:
        return None
    if anchor is Anchor.LAST_ADMINISTRATION_END:
        return max(_utc(a.end or a.start) for a in session.administrations)
    starts = [_utc(a.start) for a in session.administrations]
    return min(starts) if anchor is Anchor.FIRST_ADMINISTRATION_START else max(starts)


def _bp_readings(vitals: Iterable[VitalSigns]) -> list[tuple[int, VitalSigns]]:
    return sorted(
        ((i, v) for i, v in enumerate(vitals) if v.has_bp), key=lambda pair: _utc(pair[1].time)
    )


def _check_monitoring(session: Session, protocol: Protocol, out: _Results) -> None:
    m = protocol.monitoring
    first = session.first_administration
    if first is None:
        return
    bps = _bp_readings(session.vitals)
    predose = [(i, v) for i, v in bps if _utc(v.time) <= _utc(first.start)]

    if m.predose_bp is None:
        out.unset("monitoring.predose_bp")
    elif m.predose_bp.value and not predose:
        out.add(
            finding(
                "monitoring.predose_vitals_missing",
                f"no blood pressure recorded before the first administration at {first.start.isoformat()}",
                path="$.vitals",
                source=m.predose_bp.cite("monitoring.predose_bp"),
            )
        )

    if m.bp_threshold is None:
        out.unset("monitoring.bp_threshold")
    elif not predose:
        out.missing(
            "monitoring.bp_threshold",
            "$.vitals",
            "no pre-dose blood pressure to compare with the threshold",
        )
    else:
        i, last = predose[-1]
        threshold = m.bp_threshold.value
        assert last.systolic is not None
        assert last.diastolic is not None
        if threshold.exceeded_by(last.systolic.magnitude, last.diastolic.magnitude):
            out.add(
                finding(
                    "monitoring.bp_elevated_predose",
                    f"pre-dose BP {last.systolic.magnitude:g}/{last.diastolic.magnitude:g} mmHg is above "
                    f"{threshold} (a benefit/risk decision, not a hard stop)",
                    path=f"$.vitals[{i}]",
                    source=m.bp_threshold.cite("monitoring.bp_threshold"),
                )
            )

    if m.recheck is None:
        out.unset("monitoring.recheck")
    else:
        recheck = m.recheck.value
        anchor = _anchor_time(session, recheck.anchor)
        assert anchor is not None
        at = dt.timedelta(minutes=recheck.at.magnitude)
        tol = dt.timedelta(minutes=recheck.tolerance.magnitude)
        tz = first.start.tzinfo
        low, high = (anchor + at - tol).astimezone(tz), (anchor + at + tol).astimezone(tz)
        if not any(_utc(low) <= _utc(v.time) <= _utc(high) for _, v in bps):
            out.add(
                finding(
                    "monitoring.recheck_missing",
                    f"no blood pressure between {low.isoformat()} and {high.isoformat()} "
                    f"({recheck.at.magnitude:g} ± {recheck.tolerance.magnitude:g} min after the "
                    f"{recheck.anchor.value.replace('_', ' ')})",
                    path="$.vitals",
                    source=m.recheck.cite("monitoring.recheck"),
                )
            )

    if m.pulse_oximetry is None:
        out.unset("monitoring.pulse_oximetry")
    elif m.pulse_oximetry.value and not any(v.spo2 is not None for v in session.vitals):
        out.add(
            finding(
                "monitoring.spo2_missing",
                "the protocol requires pulse oximetry and no SpO2 was recorded",
                path="$.vitals",
                source=m.pulse_oximetry.cite("monitoring.pulse_oximetry"),
            )
        )

    if m.min_observation is None:
        out.unset("monitoring.min_observation")
    elif session.discharged_at is None:
        out.missing("monitoring.min_observation", "$.discharged_at", "no discharge time recorded")
    else:
        obs = m.min_observation.value
        anchor = _anchor_time(session, obs.anchor)
        assert anchor is not None
        observed = _utc(session.discharged_at) - anchor
        required = dt.timedelta(minutes=obs.duration.magnitude)
        if observed < required:
            out.add(
                finding(
                    "monitoring.observation_too_short",
                    f"discharged {observed.total_seconds() / 60:g} min after the "
                    f"{obs.anchor.value.replace('_', ' ')}; the protocol requires "
                    f"{obs.duration.magnitude:g} min",
                    path="$.discharged_at",
                    source=m.min_observation.cite("monitoring.min_observation"),
                )
            )

    if m.bp_threshold is not None:
        _check_discharge_bp(session, protocol, bps, out)


def _check_discharge_bp(
    session: Session, protocol: Protocol, bps: Sequence[tuple[int, VitalSigns]], out: _Results
) -> None:
    param = protocol.monitoring.bp_threshold
    assert param is not None
    last_dose = _anchor_time(session, Anchor.LAST_ADMINISTRATION_START)
    if session.discharged_at is None:
        out.missing("monitoring.bp_at_discharge", "$.discharged_at", "no discharge time recorded")
        return
    assert last_dose is not None
    discharged = _utc(session.discharged_at)
    post = [(i, v) for i, v in bps if last_dose < _utc(v.time) <= discharged]
    if not post:
        out.missing(
            "monitoring.bp_at_discharge",
            "$.vitals",
            "no blood pressure after the dose and before discharge",
        )
        return
    i, last = post[-1]
    assert last.systolic is not None
    assert last.diastolic is not None
    if not param.value.exceeded_by(last.systolic.magnitude, last.diastolic.magnitude):
        return
    before = [v for _, v in bps if _utc(v.time) < _utc(last.time)]
    settling = False
    if before:
        prev = before[-1]
        assert prev.systolic is not None
        assert prev.diastolic is not None
        settling = (
            last.systolic.magnitude <= prev.systolic.magnitude
            and last.diastolic.magnitude <= prev.diastolic.magnitude
            and (last.systolic.magnitude, last.diastolic.magnitude)
            != (prev.systolic.magnitude, prev.diastolic.magnitude)
        )
    if not settling:
        out.add(
            finding(
                "monitoring.bp_not_settled_at_discharge",
                f"last BP before discharge {last.systolic.magnitude:g}/{last.diastolic.magnitude:g} mmHg "
                f"is above {param.value} and not lower than the reading before it",
                path=f"$.vitals[{i}]",
                source=param.cite("monitoring.bp_threshold"),
            )
        )


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
        # A total within the first-session limit passes either way; one above it
        # cannot be judged, and is never passed.
        as_first = check_dose_limits(
            session.administrations, protocol.doses, weight=session.weight, first_session=True
        )
        for f in as_first.findings:
            if f.code == "dose.above_first_session_max":
                out.missing(
                    "dose.first_session_max",
                    "$.administrations",
                    f"{f.message}; without the course it is unknown whether this is the "
                    "first dosing session",
                )


def _check_schedule(session: Session, protocol: Protocol, course: Course, out: _Results) -> None:
    param = protocol.schedule.min_interval
    if param is None:
        out.unset("schedule.min_interval")
        return
    first = session.first_administration
    dosing = [s for s in course.dosing_sessions if s.first_administration]
    ids = [s.id for s in dosing]
    if first is None or session.id not in ids or ids.index(session.id) == 0:
        return
    prev = dosing[ids.index(session.id) - 1]
    assert prev.first_administration is not None
    gap = _utc(first.start) - _utc(prev.first_administration.start)
    required = dt.timedelta(minutes=param.value.magnitude)
    earliest = _utc(prev.first_administration.start) + required
    if required % dt.timedelta(days=1) == dt.timedelta(0):
        # Whole days keep their wall-clock meaning in the course's zone (DESIGN: Course),
        # so weekly doses at 09:10 stay 7 d apart across a DST change.
        earliest = prev.first_administration.start.astimezone(course.timezone) + required
    if _utc(first.start) < _utc(earliest):
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
    """Screening before the course's first dosing session (course-level paths)."""
    first = session.first_administration
    dosing = course.dosing_sessions
    if first is None or not dosing or dosing[0].id != session.id:
        return
    done = [
        (i, r) for i, r in enumerate(course.screenings) if r.time is None or r.time <= first.start
    ]
    if not done:
        out.course_findings.append(
            finding(
                "screening.not_done",
                f"no screening report before the dose at {first.start.isoformat()}",
                path="$.screenings",
            )
        )
        return
    i, report = done[-1]
    path = f"$.screenings[{i}]"
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


def _session_results(session: Session, protocol: Protocol, course: Course | None) -> _Results:
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
        protocol: The protocol it ran under.
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

    Example:
        >>> from kapproto import Session, check_session, from_json, get_protocol
        >>> session = from_json(open("examples/sessions/dose-above-limit.json").read(), Session)
        >>> report = check_session(session, get_protocol("im-kap"))
        >>> report.status, report.codes()
        (<Status.NONCOMPLIANT: 'noncompliant'>, ['dose.above_max'])
    """
    del catalog
    return _session_results(session, protocol, course).report(protocol, session.id)


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
    record_end = max(s.end for s in course.sessions)
    closed = tuple(a for a in plan.activities if a.latest <= record_end)
    for activity in plan.activities:
        if activity.latest <= record_end or not activity.required:
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

    Example:
        >>> from kapproto import Course, check_course, from_json, get_protocol
        >>> course = from_json(open("examples/sessions/course.json").read(), Course)
        >>> report = check_course(course, get_protocol("im-kap"))
        >>> report.status, report.codes()
        (<Status.COMPLIANT: 'compliant'>, [])
    """
    out = _Results()
    effective = {id(s) for s in course.effective_sessions}
    for i, session in enumerate(course.sessions):
        if id(session) in effective:
            out.merge(_session_results(session, protocol, course), f"$.sessions[{i}]")
    _check_integration(course, protocol, catalog, out)
    return out.report(protocol, course.id)
