"""Courses that comply with a protocol, and the draft course violations edit."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from typing import Any

import attrs
import hypothesis
from hypothesis import strategies as st

from kapproto.exceptions import ValidationError
from kapproto.testing._basics import _ZONES
from kapproto.testing._instruments import instrument_responses
from kapproto.testing._sessions import _any_builtin, _draw_plan, _minutes, _phq9, _Plan, _record_ids

_DAY = 1440  # minutes


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def _between(draw: st.DrawFn, low: dt.datetime, high: dt.datetime) -> dt.datetime:
    """A whole-minute step from ``low``, not after ``high``."""
    return low + _minutes(draw(st.integers(0, int((high - low).total_seconds() // 60))))


@attrs.frozen
class _Setting:
    """A protocol with the template and rule set its courses follow, resolved once."""

    protocol: Any
    template: Any
    ruleset: Any
    host: Any  # the SessionKind that carries an assessment step's instruments


def _setting(protocol: Any, catalog: Any) -> _Setting:
    from kapproto._activities import StepKind
    from kapproto._catalog import Catalog
    from kapproto._sessions import SessionKind

    shelf = catalog if catalog is not None else Catalog.builtin()
    chosen = shelf.protocol(protocol) if isinstance(protocol, str) else protocol
    ref, rules = chosen.template, chosen.ruleset
    template = None if ref is None else shelf.template(ref.id, ref.version)
    ruleset = None if rules is None else shelf.ruleset(rules.id, rules.version)
    host = None
    if template is not None:
        used = {s.kind.value for s in template.steps if s.kind is not StepKind.ASSESSMENT}
        free = [k for k in ("follow_up", "preparation", "integration") if k not in used]
        if free:
            host = SessionKind(free[0])
        elif any(s.kind is StepKind.ASSESSMENT for s in template.steps):
            raise ValidationError(
                f"template {template.id}@{template.version} asks for preparation, integration "
                "and follow-up sessions and for assessments: kapproto.testing needs a session "
                "kind no step asks for to give the assessments in",
                path="$.template",
            )
    return _Setting(chosen, template, ruleset, host)


@attrs.define
class _Visit:
    """A non-dosing session drawn for one planned activity.

    ``instrument`` is the one instrument of an assessment step it gives, or
    ``""`` for the preparation, integration or follow-up session itself.
    """

    activity: int
    instrument: str
    session: Any


@attrs.define
class _Draft:
    """A course being drawn; course violations edit it before it is built."""

    setting: _Setting
    ids: tuple[str, str]  # course, patient
    timezone: zoneinfo.ZoneInfo
    plans: list[_Plan]
    dosing: list[Any] = attrs.Factory(list)
    screenings: list[Any] = attrs.Factory(list)
    plan: Any = None  # the IntegrationPlan of the template for these dosing sessions
    visits: list[_Visit] = attrs.Factory(list)

    @property
    def tz(self) -> Any:
        return self.plans[0].start.tzinfo

    @property
    def first_dose(self) -> dt.datetime:
        start: dt.datetime = self.plans[0].administrations[0].start
        return start

    def sessions(self) -> list[Any]:
        everything = [*self.dosing, *(v.session for v in self.visits)]
        return sorted(everything, key=lambda s: _utc(s.start))

    def course(self) -> Any:
        from kapproto._courses import Course

        return Course(
            id=self.ids[0],
            patient=self.ids[1],
            protocol=self.setting.protocol.ref,
            timezone=self.timezone,
            screenings=tuple(self.screenings),
            sessions=tuple(self.sessions()),
        )


def _earliest_next(prev: dt.datetime, zone: zoneinfo.ZoneInfo, required: dt.timedelta) -> Any:
    """When the next dosing session may start, measured as the schedule check measures it."""
    if required % dt.timedelta(days=1) == dt.timedelta(0):
        return prev.astimezone(zone) + required  # whole days keep their wall-clock meaning
    return prev + required


def _next_dosing(
    draw: st.DrawFn, setting: _Setting, prev: dt.datetime, zone: Any, too_soon: bool
) -> dt.datetime:
    """The next first administration: 3-8 days and ``min_interval`` on, or too soon after ``prev``."""
    interval = setting.protocol.schedule.min_interval
    minutes = 0.0 if interval is None else float(interval.value.magnitude)
    if not too_soon:  # two hours' margin: a DST change moves a wall-clock day by one
        least = max(3 * _DAY, math.ceil(minutes) + 120)
        return prev + _minutes(draw(st.integers(least, least + 5 * _DAY)))
    earliest = _earliest_next(prev, zone, dt.timedelta(minutes=minutes))
    room = int((_utc(earliest) - _utc(prev)).total_seconds() // 60) - 1
    if room < 30:  # the sessions must stay in order by start
        hypothesis.reject()
    return prev + _minutes(draw(st.integers(max(30, room - 3 * _DAY), room)))


def _rule_finding(draw: st.DrawFn, setting: _Setting, severity: Any, outcome: Any) -> Any:
    """A screening finding for a rule of ``severity`` from the protocol's rule set (or a stand-in)."""
    from kapproto.screening import Outcome, ScreeningFinding
    from kapproto.screening._model import facts_of

    rules = [] if setting.ruleset is None else setting.ruleset.rules
    fitting = [r for r in rules if r.severity is severity]
    if fitting:
        rule = draw(st.sampled_from(fitting))
        rule_id, title, source = rule.id, rule.title, rule.source
        paths = facts_of(rule.when)
    else:
        rule_id, title = f"generated-{severity.value}", f"Generated {severity.value} rule"
        source, paths = "kapproto.testing (generated)", ("extra.generated",)
    missing = paths[:1] if outcome is Outcome.UNKNOWN else ()
    return ScreeningFinding(rule_id, severity, title, source, outcome, {}, missing)


def _screening(draw: st.DrawFn, setting: _Setting, decision: Any, time: dt.datetime) -> Any:
    """A screening report with ``decision``, as the protocol's rule set would give it."""
    from kapproto.screening import Decision, Outcome, RuleSetRef, RuleSeverity, ScreeningReport

    wanted = {
        Decision.INELIGIBLE: (RuleSeverity.ABSOLUTE, Outcome.MATCHED),
        Decision.REVIEW: (RuleSeverity.RELATIVE, Outcome.MATCHED),
        Decision.INCOMPLETE: (
            draw(st.sampled_from([RuleSeverity.ABSOLUTE, RuleSeverity.RELATIVE])),
            Outcome.UNKNOWN,
        ),
    }
    findings = [] if decision not in wanted else [_rule_finding(draw, setting, *wanted[decision])]
    if draw(st.booleans()):  # a caution never changes the decision
        findings.append(_rule_finding(draw, setting, RuleSeverity.CAUTION, Outcome.MATCHED))
    missing = tuple(p for f in findings for p in f.missing)
    rules = setting.ruleset
    ref = RuleSetRef("kapproto-testing", "1") if rules is None else rules.ref
    return ScreeningReport(decision, findings, missing, ref, time)


def _response(draw: st.DrawFn, name: str, time: dt.datetime) -> Any:
    """A response to instrument ``name`` that raises no suicide-risk flag."""
    from kapproto._compliance import _RISK_FLAGS

    if name == "phq9":
        return _phq9(draw, time)
    safe = instrument_responses(name, times=st.just(time)).filter(
        lambda r: not r.score().flags & _RISK_FLAGS
    )
    return draw(safe)


def _visit_session(
    draw: st.DrawFn,
    draft: _Draft,
    activity: Any,
    kind: Any,
    instruments: tuple[str, ...],
    start: dt.datetime,
    session_id: str,
) -> Any:
    from kapproto._sessions import Session

    length = 60 if activity.duration is None else math.ceil(activity.duration.magnitude)
    return Session(
        id=session_id,
        patient=draft.ids[1],
        kind=kind,
        protocol=draft.setting.protocol.ref,
        start=start,
        end=start + _minutes(max(length, len(instruments))),
        assessments=tuple(
            _response(draw, name, start + _minutes(j)) for j, name in enumerate(instruments)
        ),
    )


def _in_window(draw: st.DrawFn, draft: _Draft, activity: Any) -> dt.datetime:
    """A time in the activity's window; after its dosing session has ended, where there is room."""
    low, high = _utc(activity.earliest), _utc(activity.latest)
    if activity.dose_number is not None and _utc(activity.anchor_time) <= low:
        ended = _utc(draft.dosing[activity.dose_number - 1].end)
        if ended <= high:
            low = max(low, ended)
    return _between(draw, low, high).astimezone(draft.tz)


def _visit_for(draw: st.DrawFn, draft: _Draft, index: int, instrument: str) -> _Visit:
    """The session meeting activity ``index`` on time (for one instrument of an assessment)."""
    from kapproto._sessions import SessionKind

    activity = draft.plan.activities[index]
    if instrument:
        kind, instruments = draft.setting.host, (instrument,)
    else:
        kind, instruments = SessionKind(activity.kind.value), activity.instruments
    at = _in_window(draw, draft, activity)
    session_id = f"{draft.ids[0]}-v{len(draft.visits) + 1}"
    return _Visit(
        index,
        instrument,
        _visit_session(draw, draft, activity, kind, instruments, at, session_id),
    )


def _draw_course(
    draw: st.DrawFn,
    setting: _Setting,
    *,
    entries: Any = None,
    first_doses: Any = None,
    short: bool = False,
    counts: tuple[int, ...] = (1, 2, 3),
) -> _Draft:
    """A compliant course: dosing sessions, a screening before them, every planned activity met."""
    from kapproto._activities import StepKind
    from kapproto._sessions import SessionStatus
    from kapproto.screening import Decision

    protocol = setting.protocol
    count = draw(st.sampled_from(counts))
    too_soon = draw(st.integers(1, count - 1)) if short else None
    ids = (draw(_record_ids()), draw(_record_ids()))
    zone = zoneinfo.ZoneInfo(draw(st.sampled_from(_ZONES)))
    plans = [_draw_plan(draw, protocol, entries=entries, doses=first_doses)]
    for k in range(1, count):
        prev = plans[-1].administrations[0].start
        first = _next_dosing(draw, setting, prev, zone, k == too_soon)
        plans.append(_draw_plan(draw, protocol, first=first))
    draft = _Draft(setting, ids, zone, plans)
    for k, plan in enumerate(plans):
        plan.assessments = []  # every instrument is given where the plan asks for it
        draft.dosing.append(
            attrs.evolve(
                plan.session(),
                id=f"{ids[0]}-d{k + 1}",
                patient=ids[1],
                status=SessionStatus.FINAL,
                supersedes=None,
            )
        )
    screened = draft.first_dose - _minutes(draw(st.integers(60, 30 * _DAY)))
    if draw(st.booleans()):  # screened once before without being found eligible
        before = screened - _minutes(draw(st.integers(_DAY, 30 * _DAY)))
        earlier = draw(st.sampled_from([Decision.INCOMPLETE, Decision.REVIEW, Decision.INELIGIBLE]))
        draft.screenings.append(_screening(draw, setting, earlier, before))
    draft.screenings.append(_screening(draw, setting, Decision.ELIGIBLE, screened))
    if setting.template is not None:
        draft.plan = setting.template.for_course(draft.course())
        for i, activity in enumerate(draft.plan.activities):
            names = activity.instruments if activity.kind is StepKind.ASSESSMENT else ("",)
            for name in names:
                draft.visits.append(_visit_for(draw, draft, i, name))
    return draft


def courses(protocol: Any = None, *, catalog: Any = None) -> st.SearchStrategy[Any]:
    """:class:`~kapproto.Course` records that comply with ``protocol``: :func:`~kapproto.check_course` passes them.

    A course has one to three dosing sessions, each drawn as :func:`sessions`
    draws one, 3 to 8 days apart and never closer than the protocol's
    ``min_interval``; a screening report that decided eligible before the
    first dose (sometimes after an earlier one that did not); and, where the
    protocol names an integration-plan template, one session for every
    activity of the plan inside its window (an assessment step's instruments
    each in a session of a kind no step asks for). No instrument raises a
    suicide-risk flag. The course's zone is drawn from a few IANA zones;
    times carry fixed UTC offsets, as read back from JSON.

    Args:
        protocol: A :class:`~kapproto.Protocol` or a protocol id; ``None``
            draws a built-in protocol.
        catalog: The :class:`~kapproto.Catalog` to find the protocol, its
            rule set and its template in (default: the built-in one); pass
            the same one to :func:`~kapproto.check_course`.

    Raises:
        ValidationError: The protocol's limits leave no dose to give, or its
            template leaves no session kind free for its assessments.

    Example:
        >>> from hypothesis import given, settings
        >>> from kapproto import check_course, get_protocol
        >>> protocol = get_protocol("im-kap")
        >>> @settings(max_examples=5, deadline=None)
        ... @given(courses(protocol))
        ... def test_compliant(course):
        ...     assert check_course(course, protocol).ok
        >>> test_compliant()
    """
    if protocol is None:
        return _any_builtin(courses)
    setting = _setting(protocol, catalog)

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        return _draw_course(draw, setting).course()

    return build()
