"""Integration plans: a template's steps dated for one course, and the adherence check.

An :class:`IntegrationPlan` is what :meth:`kapproto.PlanTemplate.instantiate`
makes of a template for one course: each step turned into dated
:class:`~kapproto.PlannedActivity` windows, sorted by ``earliest``. It
serializes as a ``kapproto.plan/1`` document, renders as a printable Markdown
schedule or an iCalendar file, and checks a recorded course against itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import attrs
import cattrs

from kapproto._activities import (
    PlanConflict,
    PlannedActivity,
    StepKind,
    dosing_problems,
    format_time,
    text,
    to_tuple,
    utc,
)
from kapproto._courses import Course
from kapproto._findings import Finding, finding
from kapproto._plan_render import instrument_names, render_ical, render_markdown
from kapproto._sessions import Reference, SessionKind
from kapproto._validators import aware
from kapproto.exceptions import ValidationError
from kapproto.serialization import register_document, register_hooks

__all__ = ["IntegrationPlan"]

E = TypeVar("E", bound=Hashable)

_SESSION_KIND = {
    StepKind.PREPARATION: SessionKind.PREPARATION,
    StepKind.INTEGRATION: SessionKind.INTEGRATION,
    StepKind.FOLLOW_UP: SessionKind.FOLLOW_UP,
}


@register_document("plan", 1)
@attrs.frozen
class IntegrationPlan:
    """A template instantiated for one course: dated activities, sorted by ``earliest``.

    Build one with :meth:`kapproto.PlanTemplate.instantiate` or
    :meth:`kapproto.PlanTemplate.for_course`. JSON: a ``kapproto.plan/1``
    document (:func:`kapproto.serialization.to_json`).

    Attributes:
        template: The template it was made from (``{"id", "version"}``).
        title: The template's title.
        course_start: The time ``course_start`` steps are anchored at.
        dosing: The dosing session times, sorted and distinct.
        timezone: IANA zone in which windows in days and weeks kept their
            wall-clock meaning, or ``None`` (each anchor's own UTC offset).
        activities: The activities, sorted by ``earliest``.
        conflicts: Windows that run into a dosing session other than their anchor.
        id: An id for the plan (the course id, say); it keeps the iCalendar
            UIDs of different patients' plans apart.

    Example:
        >>> from kapproto import Course, from_json, get_template
        >>> course = from_json(open("examples/sessions/course.json").read(), Course)
        >>> plan = get_template("kap-weekly-3").for_course(course)
        >>> len(plan.activities), len(plan.dosing), plan.conflicts
        (8, 3, ())
    """

    template: Reference
    title: str = attrs.field(validator=text)
    course_start: dt.datetime = attrs.field(validator=aware)
    dosing: tuple[dt.datetime, ...] = attrs.field(default=(), converter=to_tuple)
    timezone: zoneinfo.ZoneInfo | None = None
    activities: tuple[PlannedActivity, ...] = attrs.field(default=(), converter=to_tuple)
    conflicts: tuple[PlanConflict, ...] = attrs.field(default=(), converter=to_tuple)
    id: str | None = None

    def __attrs_post_init__(self) -> None:
        problems = dosing_problems(self.dosing)
        for i in range(1, len(self.activities)):
            if utc(self.activities[i].earliest) < utc(self.activities[i - 1].earliest):
                problems.append((f"$.activities[{i}]", "activities must be sorted by earliest"))
        for i, conflict in enumerate(self.conflicts):
            if not 0 <= conflict.activity < len(self.activities):
                problems.append(
                    (f"$.conflicts[{i}].activity", f"there is no activity {conflict.activity}")
                )
        if problems:
            raise ValidationError(problems=problems)

    @property
    def key(self) -> str:
        """The plan's ``id``, or a stable digest of its template and course start."""
        if self.id:
            return self.id
        text = f"{self.template}|{self.course_start.astimezone(dt.UTC).isoformat()}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def uid(self, index: int) -> str:
        """Stable iCalendar UID of activity ``index``: ``<key>.<step id>.<dose number>@kapproto``."""
        activity = self.activities[index]
        return f"{self.key}.{activity.step_id}.{activity.dose_number or 0}@kapproto"

    def to_markdown(self) -> str:
        """A printable schedule for patient and therapist, in Markdown.

        A table of windows in time order with the dosing sessions between
        them, then each step's prompts, the windows that run into a dosing
        session, and where each step's timing comes from.
        """
        return render_markdown(
            title=self.title,
            template=self.template,
            timezone=self.timezone,
            course_start=self.course_start,
            dosing=self.dosing,
            activities=self.activities,
            conflicts=self.conflicts,
        )

    def to_ical(self, *, stamp: dt.datetime | None = None) -> str:
        """The plan as an iCalendar file: one VEVENT per activity.

        Each event runs from its window's ``earliest`` to its ``latest`` (in
        UTC; a zero-length window has no DTEND) and is marked transparent, as
        a window is not busy time. UIDs are stable for the plan (:meth:`uid`)
        and the DTSTAMP is derived from the plan (its course start), so the
        same plan always gives the same text.

        Args:
            stamp: A DTSTAMP to use instead of the course start (timezone-aware).

        Returns:
            The iCalendar text (CRLF line ends, so write it with ``newline=""``).

        Raises:
            ImportError: The ``icalendar`` package (the ``kapproto[ical]``
                extra) is not installed; the message says
                ``pip install 'kapproto[ical]'``.
        """
        return render_ical(
            title=self.title,
            activities=self.activities,
            uids=[self.uid(i) for i in range(len(self.activities))],
            stamp=stamp or self.course_start,
        )

    def adherence(self, course: Course) -> list[Finding]:
        """Check a recorded course against this plan.

        Build the plan from the same course (:meth:`kapproto.PlanTemplate.for_course`),
        so that its dosing times are the course's.

        A session *meets* a preparation, integration or follow-up activity
        when it is an effective session of that kind starting inside the
        window; a response to an instrument, in any session, meets an
        assessment activity for that instrument. Each session or response
        meets one activity at most, matched so that as many activities as
        possible are met on time. An activity left unmet then takes the
        nearest unused session (or response) between the dosing sessions
        around its window as met *late*.

        Returns:
            Findings in plan order. ``integration.missing`` (error) for a
            required activity nothing meets, ``integration.late`` (warning)
            for one met outside its window, and ``assessment.missing``
            (warning) for an instrument of the step not given in the session
            that met it, or, for an assessment step, not given at all.
        """
        where = {id(s): i for i, s in enumerate(course.sessions)}
        effective = course.effective_sessions
        met: dict[tuple[int, str], tuple[tuple[int, int], dt.datetime, bool]] = {}
        for kind, session_kind in _SESSION_KIND.items():
            pool = [i for i, a in enumerate(self.activities) if a.kind is kind]
            events = [(s.start, (where[id(s)], -1)) for s in effective if s.kind is session_kind]
            for i, found in zip(pool, self._assign(pool, events), strict=True):
                if found is not None:
                    met[(i, "")] = found
        instruments = sorted(
            {n for a in self.activities if a.kind is StepKind.ASSESSMENT for n in a.instruments}
        )
        for name in instruments:
            pool = [
                i
                for i, a in enumerate(self.activities)
                if a.kind is StepKind.ASSESSMENT and name in a.instruments
            ]
            events = [
                (r.time, (where[id(s)], j))
                for s in effective
                for j, r in enumerate(s.assessments)
                if r.instrument == name
            ]
            for i, found in zip(pool, self._assign(pool, events), strict=True):
                if found is not None:
                    met[(i, name)] = found
        findings: list[Finding] = []
        for i, activity in enumerate(self.activities):
            if activity.kind is StepKind.ASSESSMENT:
                for name in activity.instruments:
                    findings += self._judge(activity, met.get((i, name)), course, name)
            else:
                findings += self._judge(activity, met.get((i, "")), course, "")
        return findings

    # -- adherence helpers ----------------------------------------------------

    def _bracket(self, activity: PlannedActivity) -> Callable[[dt.datetime], bool]:
        """Whether a time lies between the dosing sessions around a window (a late match)."""
        lo: dt.datetime | None
        hi: dt.datetime | None
        earliest, latest, anchor = map(
            utc, (activity.earliest, activity.latest, activity.anchor_time)
        )
        dosing = [utc(d) for d in self.dosing]
        if anchor <= earliest:
            later = [d for d in dosing if d > latest]
            lo, hi = anchor, (later[0] if later else None)
        else:
            earlier = [d for d in dosing if d < earliest]
            lo, hi = (earlier[-1] if earlier else None), anchor

        def between(moment: dt.datetime) -> bool:
            return (lo is None or utc(moment) >= lo) and (hi is None or utc(moment) < hi)

        return between

    def _assign(
        self, pool: Sequence[int], events: Sequence[tuple[dt.datetime, E]]
    ) -> list[tuple[E, dt.datetime, bool] | None]:
        """Match activities to events: on time first (earliest deadline first), then late."""
        acts = [self.activities[i] for i in pool]
        result: list[tuple[E, dt.datetime, bool] | None] = [None] * len(acts)
        order = sorted(range(len(events)), key=lambda j: utc(events[j][0]))
        used: set[int] = set()

        def take(k: int, fits: Callable[[dt.datetime], bool], on_time: bool) -> None:
            candidates = [j for j in order if j not in used and fits(events[j][0])]
            if candidates:
                j = min(candidates, key=lambda j: _distance(acts[k], events[j][0]))
                used.add(j)
                result[k] = (events[j][1], events[j][0], on_time)

        for k in sorted(
            range(len(acts)), key=lambda k: (utc(acts[k].latest), utc(acts[k].earliest))
        ):
            take(k, acts[k].contains, True)
        for k in range(len(acts)):
            if result[k] is None:
                take(k, self._bracket(acts[k]), False)
        return result

    def _judge(
        self,
        activity: PlannedActivity,
        found: tuple[tuple[int, int], dt.datetime, bool] | None,
        course: Course,
        instrument: str,
    ) -> list[Finding]:
        label = f"{activity.label} [step {activity.step_id!r}]"
        session_kind = f"{activity.kind.value.replace('_', '-')} session"
        if found is None:
            if not activity.required:
                return []
            code = "assessment.missing" if instrument else "integration.missing"
            what = instrument_names([instrument]) if instrument else session_kind
            message = f"{label}: no {what} in its window {activity.window}"
            return [self._finding(code, message, "$.sessions", activity)]
        (index, response), moment, on_time = found
        session = course.sessions[index]
        path = f"$.sessions[{index}]" + (f".assessments[{response}]" if response >= 0 else "")
        out: list[Finding] = []
        if not on_time:
            side = "before" if utc(moment) < utc(activity.earliest) else "after"
            local = format_time(moment.astimezone(activity.earliest.tzinfo))
            what = (
                f"{instrument_names([instrument])} given in session" if instrument else session_kind
            )
            message = (
                f"{label}: {what} {session.id!r} at {local} is {side} its window {activity.window}"
            )
            out.append(self._finding("integration.late", message, path, activity))
        if not instrument:
            given = {r.instrument for r in session.assessments}
            out += [
                self._finding(
                    "assessment.missing",
                    f"{label}: {instrument_names([name])} was not given in session {session.id!r}",
                    path,
                    activity,
                )
                for name in activity.instruments
                if name not in given
            ]
        return out

    def _finding(self, code: str, message: str, path: str, activity: PlannedActivity) -> Finding:
        cite = f"template {self.template} step {activity.step_id!r}"
        return finding(
            code,
            message,
            path=path,
            source=f"{cite}: {activity.source}" if activity.source else cite,
        )


def _in_zone(plan: IntegrationPlan) -> IntegrationPlan:
    """The plan with every time shown in its zone, as :meth:`~kapproto.PlanTemplate.instantiate` gives it.

    JSON keeps only UTC offsets. Back in the zone, a plan read from JSON
    equals the one written even for times in the hour repeated when DST ends
    (PEP 495 makes such a time unequal to any fixed-offset time).
    """
    zone = plan.timezone
    if zone is None:
        return plan
    activities = [
        attrs.evolve(
            a,
            earliest=a.earliest.astimezone(zone),
            latest=a.latest.astimezone(zone),
            anchor_time=a.anchor_time.astimezone(zone),
        )
        for a in plan.activities
    ]
    return attrs.evolve(
        plan,
        course_start=plan.course_start.astimezone(zone),
        dosing=tuple(d.astimezone(zone) for d in plan.dosing),
        activities=tuple(activities),
        conflicts=tuple(
            attrs.evolve(c, dosing_time=c.dosing_time.astimezone(zone)) for c in plan.conflicts
        ),
    )


@register_hooks
def _structure_in_zone(conv: cattrs.Converter) -> None:
    base = conv.get_structure_hook(IntegrationPlan)

    def structure(value: object, cls: Any) -> IntegrationPlan:
        return _in_zone(base(value, cls))

    conv.register_structure_hook(IntegrationPlan, structure)


def _distance(activity: PlannedActivity, moment: dt.datetime) -> dt.timedelta:
    if utc(moment) < utc(activity.earliest):
        return utc(activity.earliest) - utc(moment)
    return max(utc(moment) - utc(activity.latest), dt.timedelta(0))
