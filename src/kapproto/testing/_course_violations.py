"""Courses that break a protocol in one course-level way, or lack a screening record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs
import hypothesis
from hypothesis import strategies as st

from kapproto.testing._courses import (
    _DAY,
    _Draft,
    _draw_course,
    _screening,
    _Setting,
    _setting,
    _utc,
    _visit_session,
)
from kapproto.testing._sessions import _minutes
from kapproto.testing._violations import (
    _COURSE_CODES,
    _VIOLATIONS,
    _catalogued,
    _entries_where,
    _first_session,
    _refuse_unproducible,
)


def _targets(activity: Any, code: str) -> list[str]:
    """What of an activity, absent or late, shows ``code``: instruments, or ``""`` for its session."""
    from kapproto._activities import StepKind

    assessment = activity.kind is StepKind.ASSESSMENT
    if code == "integration.missing":
        return [""] if activity.required and not assessment else []
    if code == "assessment.missing":
        return list(activity.instruments) if activity.required or not assessment else []
    return list(activity.instruments) if assessment else [""]


def _dosing_counts(setting: _Setting, code: str) -> tuple[int, ...]:
    """How many dosing sessions (1-3) give the template an activity that can show ``code``."""
    if setting.template is None:
        return ()
    start = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    counts = []
    for n in (1, 2, 3):
        dosing = [start + dt.timedelta(days=7 * k) for k in range(n)]
        plan = setting.template.instantiate(dosing=dosing, timezone="UTC")
        if any(_targets(a, code) for a in plan.activities):
            counts.append(n)
    return tuple(counts)


def _alone(draft: _Draft, v: int, name: str, after: list[Any]) -> bool:
    """Whether visit ``v`` (instrument ``name``) is judged, and nothing else in ``after`` can meet it.

    Its window must have closed (an open one is "not evaluable", never a
    finding). No other session (or response) may fall in the window, nor,
    where a late match is looked for, belong to an activity whose own window
    is still open: the check leaves such an activity out, and its session
    would be taken as this one, late.
    """
    visit = draft.visits[v]
    activity = draft.plan.activities[visit.activity]
    end = max(_utc(s.end) for s in after)
    if _utc(activity.latest) > end:
        return False
    late = draft.plan._bracket(activity)
    present = {s.id for s in after}
    for w, other in enumerate(draft.visits):
        session = other.session
        if w == v or session.id not in present:
            continue
        if visit.instrument:
            times = [r.time for r in session.assessments if r.instrument == name]
        else:
            times = [session.start] if session.kind is visit.session.kind else []
        open_ = _utc(draft.plan.activities[other.activity].latest) > end
        if any(activity.contains(t) or (open_ and late(t)) for t in times):
            return False
    return True


def _remove(draft: _Draft, v: int, name: str) -> None:
    """Remove visit ``v``, or only its response to instrument ``name``."""
    visit = draft.visits[v]
    if name == visit.instrument:
        del draft.visits[v]
    else:
        kept = tuple(r for r in visit.session.assessments if r.instrument != name)
        visit.session = attrs.evolve(visit.session, assessments=kept)


def _missing(code: str) -> Callable[[st.DrawFn, _Draft], None]:
    """A planned session, or an instrument, that never happened."""

    def edit(draw: st.DrawFn, draft: _Draft) -> None:
        options = []
        for v, visit in enumerate(draft.visits):
            activity = draft.plan.activities[visit.activity]
            for name in _targets(activity, code):
                if visit.instrument not in ("", name):
                    continue
                gone = name == visit.instrument
                after = [s for s in draft.sessions() if not gone or s.id != visit.session.id]
                if _alone(draft, v, name, after):
                    options.append((v, name))
        if not options:
            hypothesis.reject()
        _remove(draft, *draw(st.sampled_from(options)))

    return edit


def _late_room(draft: _Draft, index: int, instrument: str) -> tuple[int, int]:
    """``(side, minutes)``: how far past its window activity ``index`` may move and still be late.

    It stays between the dosing sessions around the window (where a late
    match is looked for) and out of every other window it could meet.
    """
    from kapproto._activities import StepKind

    activity = draft.plan.activities[index]
    dosing = [_utc(d) for d in draft.plan.dosing]
    others = [
        a
        for j, a in enumerate(draft.plan.activities)
        if j != index
        and (
            instrument in a.instruments and a.kind is StepKind.ASSESSMENT
            if instrument
            else a.kind is activity.kind
        )
    ]
    if _utc(activity.anchor_time) <= _utc(activity.earliest):  # after its anchor: later still
        edge = _utc(activity.latest)
        stops = [d for d in dosing if d > edge] + [
            _utc(a.earliest) for a in others if _utc(a.earliest) > edge
        ]
        limit = min((int((s - edge).total_seconds() // 60) - 1 for s in stops), default=_DAY)
        return 1, min(_DAY, limit)
    edge = _utc(activity.earliest)  # before its anchor: earlier still
    stops = [d for d in dosing if d < edge] + [
        _utc(a.latest) for a in others if _utc(a.latest) < edge
    ]
    limit = min((int((edge - s).total_seconds() // 60) - 1 for s in stops), default=_DAY)
    return -1, min(_DAY, limit)


def _late(draw: st.DrawFn, draft: _Draft) -> None:
    """A planned session (or an assessment) held outside its window, before the next dosing."""
    options = [
        (v, space)
        for v, visit in enumerate(draft.visits)
        if visit.instrument in _targets(draft.plan.activities[visit.activity], "integration.late")
        and (space := _late_room(draft, visit.activity, visit.instrument))[1] >= 1
    ]
    if not options:
        hypothesis.reject()
    v, (side, room) = draw(st.sampled_from(options))
    visit = draft.visits[v]
    activity = draft.plan.activities[visit.activity]
    edge = activity.latest if side > 0 else activity.earliest
    at = (_utc(edge) + _minutes(side * draw(st.integers(1, room)))).astimezone(draft.tz)
    old = visit.session
    names = tuple(r.instrument for r in old.assessments)
    visit.session = _visit_session(draw, draft, activity, old.kind, names, at, old.id)
    if not draft.plan._bracket(activity)(at) or not _alone(
        draft, v, visit.instrument, draft.sessions()
    ):
        hypothesis.reject()


def _not_screened(draw: st.DrawFn, draft: _Draft) -> None:
    """No screening report, or only one made after the first dose."""
    from kapproto.screening import Decision

    if draw(st.booleans()):
        draft.screenings = []
    else:
        late = draft.first_dose + _minutes(draw(st.integers(1, 14 * _DAY)))
        draft.screenings = [_screening(draw, draft.setting, Decision.ELIGIBLE, late)]


def _screened(decision: str) -> Callable[[st.DrawFn, _Draft], None]:
    """The last screening before the first dose decided ``decision``."""

    def edit(draw: st.DrawFn, draft: _Draft) -> None:
        from kapproto.screening import Decision

        last = draft.screenings[-1]
        draft.screenings[-1] = _screening(draw, draft.setting, Decision(decision), last.time)

    return edit


@attrs.frozen
class _CourseViolation:
    """How a course shows one course-level finding code, and under which protocols."""

    applies: Callable[[_Setting], bool]
    edit: Callable[[st.DrawFn, _Draft], None] | None = None
    entries: Callable[[Any], list[Any]] | None = None  # for the first dosing session
    first_doses: Any = None
    short: bool = False  # one dosing session too soon after the one before
    counts: Callable[[_Setting], tuple[int, ...]] = lambda s: (1, 2, 3)  # dosing sessions


def _integration(code: str, edit: Callable[[st.DrawFn, _Draft], None]) -> _CourseViolation:
    def counts(setting: _Setting) -> tuple[int, ...]:
        return _dosing_counts(setting, code)

    return _CourseViolation(lambda s: bool(counts(s)), edit, counts=counts)


_FIRST_SESSION = _entries_where(lambda p, e: e.first_session_max is not None)

_COURSE_VIOLATIONS: dict[str, _CourseViolation] = {
    "dose.above_first_session_max": _CourseViolation(
        lambda s: bool(_FIRST_SESSION(s.protocol)),
        entries=_FIRST_SESSION,
        first_doses=_first_session,
    ),
    "schedule.interval_too_short": _CourseViolation(
        lambda s: (i := s.protocol.schedule.min_interval) is not None and i.value.magnitude > 31,
        short=True,
        counts=lambda s: (2, 3),
    ),
    "screening.not_done": _CourseViolation(lambda s: True, _not_screened),
    "screening.ineligible": _CourseViolation(lambda s: True, _screened("ineligible")),
    "screening.review": _CourseViolation(lambda s: True, _screened("review")),
    "integration.missing": _integration("integration.missing", _missing("integration.missing")),
    "integration.late": _integration("integration.late", _late),
    "assessment.missing": _integration("assessment.missing", _missing("assessment.missing")),
}
assert set(_COURSE_VIOLATIONS) == _COURSE_CODES


def _codes(setting: _Setting) -> tuple[str, ...]:
    return tuple(
        sorted(c for c in _catalogued(_COURSE_VIOLATIONS) if _COURSE_VIOLATIONS[c].applies(setting))
    )


def course_violation_codes(protocol: Any, *, catalog: Any = None) -> tuple[str, ...]:
    """The finding codes :func:`course_violations` can produce under ``protocol``, sorted.

    These are the codes only a course can show; :func:`violation_codes` lists
    the ones a session shows on its own. A code is left out when the
    protocol does not configure what it checks: ``schedule.interval_too_short``
    without ``min_interval``, ``dose.above_first_session_max`` without
    ``first_session_max``, ``integration.*`` and ``assessment.missing``
    without a template step that can show them.

    Args:
        protocol: A :class:`~kapproto.Protocol` or a protocol id.
        catalog: Where to find it, its rule set and template (default: built-in).

    Example:
        >>> course_violation_codes("esketamine-trd")
        ('assessment.missing', 'dose.above_first_session_max', 'integration.late', 'screening.ineligible', 'screening.not_done', 'screening.review')
        >>> "schedule.interval_too_short" in course_violation_codes("im-kap")
        False
    """
    return _codes(_setting(protocol, catalog))


def course_violations(protocol: Any, code: str, *, catalog: Any = None) -> st.SearchStrategy[Any]:
    """Courses that break ``protocol`` in one way: :func:`~kapproto.check_course` finds only ``code``.

    Each course is drawn as :func:`courses` draws a compliant one, then
    changed in one place, by code:

    - ``dose.above_first_session_max``: the first dosing session's total is
      above ``first_session_max`` (and within ``session_max``, so a later
      session could give it);
    - ``schedule.interval_too_short``: one dosing session starts less than
      ``min_interval`` after the one before;
    - ``screening.not_done``: no screening report, or only one made after the first dose;
    - ``screening.ineligible`` / ``screening.review``: the last screening
      before the first dose decided so;
    - ``integration.missing``: a required preparation, integration or
      follow-up session of the plan never happened;
    - ``integration.late``: a planned session, or an assessment, happened
      outside its window (before the next dosing session);
    - ``assessment.missing``: an instrument the plan asks for was not given.

    Every change is judged: a missing or late activity's window has closed
    before the course's last recorded session ends.

    Args:
        protocol: A :class:`~kapproto.Protocol` or a protocol id.
        code: One of :func:`course_violation_codes` for that protocol.
        catalog: Where to find it, its rule set and template (default: built-in).

    Raises:
        UnknownReferenceError: ``code`` is not a finding code this module can produce.
        ValidationError: The protocol does not configure what ``code``
            checks, or a session shows ``code`` on its own (use
            :func:`violations`); the message names the code and the protocol.

    Example:
        >>> from hypothesis import given, settings
        >>> from kapproto import check_course, check_session, get_protocol
        >>> protocol = get_protocol("esketamine-trd")
        >>> @settings(max_examples=5, deadline=None)
        ... @given(course_violations(protocol, "dose.above_first_session_max"))
        ... def test_day_one(course):
        ...     assert check_course(course, protocol).codes() == ["dose.above_first_session_max"]
        ...     first = course.dosing_sessions[0]
        ...     assert check_session(first, protocol, course=course).codes() == ["dose.above_first_session_max"]
        >>> test_day_one()
    """
    setting = _setting(protocol, catalog)
    chosen = setting.protocol
    alone = (_catalogued(_VIOLATIONS), "is shown by a session on its own", "violations")
    _refuse_unproducible(chosen, code, _catalogued(_COURSE_VIOLATIONS), _codes(setting), alone)
    how = _COURSE_VIOLATIONS[code]
    counts = how.counts(setting)

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        draft = _draw_course(
            draw,
            setting,
            entries=None if how.entries is None else how.entries(chosen),
            first_doses=how.first_doses,
            short=how.short,
            counts=counts,
        )
        if how.edit is not None:
            how.edit(draw, draft)
        return draft.course()

    return build()


def courses_missing_a_record(
    protocol: Any, *, catalog: Any = None
) -> st.SearchStrategy[tuple[str, Any]]:
    """``(what, course)``: a compliant course with one course-level record a check needs removed.

    ``what`` names the record: ``"$.screenings"`` (every screening report
    gone: ``screening.not_done``) or ``"$.screenings[i].time"`` (when the last
    screening before the first dose was made: without it, whether screening
    came first is unknown, so the check is not evaluable). For records
    inside a dosing session see :func:`sessions_missing_a_record`.

    Args:
        protocol: A :class:`~kapproto.Protocol` or a protocol id.
        catalog: Where to find it, its rule set and template (default: built-in).

    Example:
        >>> from hypothesis import given, settings
        >>> from kapproto import check_course, get_protocol
        >>> protocol = get_protocol("sc-racemic")
        >>> @settings(max_examples=5, deadline=None)
        ... @given(courses_missing_a_record(protocol))
        ... def test_removed(pair):
        ...     what, course = pair
        ...     assert what == "$.screenings" or course.screenings[-1].time is None
        >>> test_removed()
    """
    setting = _setting(protocol, catalog)

    @st.composite
    def build(draw: st.DrawFn) -> tuple[str, Any]:
        draft = _draw_course(draw, setting)
        if draw(st.booleans()):
            draft.screenings = []
            return "$.screenings", draft.course()
        i = len(draft.screenings) - 1  # the last screening before the first dose
        draft.screenings[i] = attrs.evolve(draft.screenings[i], time=None)
        return f"$.screenings[{i}].time", draft.course()

    return build()
