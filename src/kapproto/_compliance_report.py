"""The compliance report: status, findings, not-evaluable and not-configured checks."""

from __future__ import annotations

import enum
from functools import cache

import attrs

from kapproto._findings import Finding, Severity
from kapproto._protocols import Protocol
from kapproto._sessions import Reference
from kapproto.exceptions import join_path
from kapproto.serialization import register_document

__all__ = ["ComplianceReport", "NotEvaluable", "Status"]


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
