"""Integration-plan templates: preparation, integration, assessment and follow-up.

A :class:`PlanTemplate` says *what* happens around the dosing sessions and
*when*, relative to an anchor; the dosing dates come from the course, never
from the template. :meth:`PlanTemplate.instantiate` dates the steps for one
course and gives an :class:`~kapproto.IntegrationPlan`.

Templates are TOML or JSON files (``kapproto/data/templates/`` holds the
built-ins; see the template-format reference), loaded with
:func:`load_template`; problems are reported all at once as a
:class:`~kapproto.exceptions.ProtocolError`.

Example:
    >>> import datetime as dt
    >>> from kapproto import get_template
    >>> t = get_template("kap-weekly-3")
    >>> denver = dt.timezone(dt.timedelta(hours=-7))
    >>> plan = t.instantiate(
    ...     dosing=[dt.datetime(2026, 3, d, 9, 0, tzinfo=denver) for d in (2, 9, 16)],
    ...     timezone="America/Denver",
    ... )
    >>> [(a.step_id, a.dose_number) for a in plan.activities][:3]
    [('prep', None), ('integration', 1), ('integration', 2)]
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Collection, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import attrs

from kapproto._activities import (
    PlanConflict,
    PlannedActivity,
    dosing_problems,
    format_time,
    text,
    to_tuple,
    utc,
)
from kapproto._courses import Course
from kapproto._data import latest, read_document, shipped
from kapproto._plan_steps import PlanAnchor, PlanStep
from kapproto._plans import IntegrationPlan
from kapproto._sessions import Reference
from kapproto._template_reader import read_template
from kapproto.exceptions import ProtocolError, ValidationError

__all__ = ["PlanTemplate", "builtin_templates", "get_template", "load_template"]


@attrs.frozen
class PlanTemplate:
    """An integration-plan template: steps around the dosing sessions of a course.

    Attributes:
        id: Template id, e.g. ``"kap-weekly-3"``.
        version: Version; a changed step is a new version.
        title: Human-readable title.
        source: Where the template as a whole comes from.
        steps: The steps, in file order; ids unique.

    Example:
        >>> from kapproto import get_template
        >>> template = get_template("kap-weekly-3")
        >>> template.ref
        Reference(id='kap-weekly-3', version='1')
        >>> [step.id for step in template.steps]
        ['prep', 'integration', 'follow-up-1wk', 'follow-up-1mo', 'follow-up-3mo', 'follow-up-6mo']
    """

    id: str = attrs.field(validator=text)
    version: str = attrs.field(validator=text)
    title: str = attrs.field(validator=text)
    source: str = attrs.field(validator=text)
    steps: tuple[PlanStep, ...] = attrs.field(converter=to_tuple)

    def __attrs_post_init__(self) -> None:
        if not self.steps:
            raise ValidationError("a template needs at least one step", path="$.steps")
        ids = [step.id for step in self.steps]
        problems = [
            (f"$.steps[{i}].id", f"duplicate step id {step_id!r}")
            for i, step_id in enumerate(ids)
            if ids.index(step_id) != i
        ]
        if problems:
            raise ValidationError(problems=problems)

    @property
    def ref(self) -> Reference:
        """``{"id", "version"}`` of this template."""
        return Reference(self.id, self.version)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, instruments: Collection[str] | None = None
    ) -> PlanTemplate:
        """Build a template from the file format (a parsed TOML or JSON document).

        Args:
            data: The parsed file.
            instruments: The instrument ids steps may name; by default the
                built-in instruments (:func:`kapproto.instruments.get_instrument`).

        Raises:
            ProtocolError: Every problem found, each with its path and the
                step id (``$.steps[1].after: step 'integrate': ...``).
        """
        return read_template(data, instruments=instruments, build=cls)

    def to_dict(self) -> dict[str, Any]:
        """The template in the file format; ``from_dict(t.to_dict()) == t``."""
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "source": self.source,
            "steps": [step.to_dict() for step in self.steps],
        }

    def instantiate(
        self,
        *,
        course_start: dt.datetime | None = None,
        dosing: Sequence[dt.datetime] = (),
        timezone: str | zoneinfo.ZoneInfo | None = None,
        id: str | None = None,
    ) -> IntegrationPlan:
        """Date every step for one course.

        Args:
            course_start: Anchor of ``course_start`` steps; the first dosing
                time by default. Not after the first dosing time.
            dosing: The dosing session times: timezone-aware, sorted, distinct.
            timezone: IANA zone (name or :class:`zoneinfo.ZoneInfo`) in which
                windows in days and weeks keep their wall-clock meaning and
                the plan's times are shown. ``None``: each anchor's own UTC
                offset (a fixed offset counts a day as 24 h).
            id: An id for the plan (the course id), used in iCalendar UIDs.

        Returns:
            The plan, its activities sorted by ``earliest``; windows that run
            into another dosing session are listed in ``conflicts``, not moved.

        Raises:
            ValidationError: A naive, unsorted or repeated dosing time, a
                naive course start or one after the first dosing, an unknown
                zone, or neither a course start nor a dosing time.
        """
        zone, start, times = _inputs(course_start, dosing, timezone)
        found: list[tuple[dt.datetime, dt.datetime, int, int, PlannedActivity]] = []
        for order, step in enumerate(self.steps):
            for anchor, number in _anchors(step, start, times):
                tz = zone or anchor.tzinfo
                assert tz is not None
                earliest, latest = step.window.around(anchor, tz)
                activity = PlannedActivity(
                    step_id=step.id,
                    kind=step.kind,
                    title=step.title,
                    earliest=earliest,
                    latest=latest,
                    anchor_time=anchor.astimezone(tz),
                    instruments=step.instruments,
                    dose_number=number,
                    duration=step.duration,
                    prompts=step.prompts,
                    required=step.required,
                    source=step.source,
                )
                found.append((utc(earliest), utc(latest), order, number or 0, activity))
        found.sort(key=lambda item: item[:4])
        activities = tuple(item[4] for item in found)
        return IntegrationPlan(
            template=self.ref,
            title=self.title,
            course_start=start.astimezone(zone) if zone else start,
            dosing=tuple(d.astimezone(zone) for d in times) if zone else times,
            timezone=zone,
            activities=activities,
            conflicts=_conflicts(activities, times),
            id=id,
        )

    def for_course(
        self, course: Course, *, course_start: dt.datetime | None = None
    ) -> IntegrationPlan:
        """The plan for a recorded course: its dosing times, its zone, its id.

        A dosing session's time is its first administration's start; only
        effective dosing sessions in which a dose was given count.

        Args:
            course: The recorded course.
            course_start: Anchor of ``course_start`` steps; by default the
                first dosing time (or, with no dose given yet, the first
                session's start).
        """
        dosing = [
            s.first_administration.start if s.first_administration else s.start
            for s in course.dosing_sessions
        ]
        if course_start is None and not dosing and course.sessions:
            course_start = course.sessions[0].start
        return self.instantiate(
            course_start=course_start, dosing=dosing, timezone=course.timezone, id=course.id
        )


def _zone(timezone: object) -> zoneinfo.ZoneInfo:
    if isinstance(timezone, zoneinfo.ZoneInfo):
        return timezone
    if isinstance(timezone, str) and timezone.strip():
        try:
            return zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    raise ValidationError(
        f"{timezone!r} is not an IANA time zone such as 'America/Denver'", path="$.timezone"
    )


def _inputs(
    course_start: object, dosing: Sequence[object], timezone: object
) -> tuple[zoneinfo.ZoneInfo | None, dt.datetime, tuple[dt.datetime, ...]]:
    """Check instantiate's arguments, every problem at once."""
    problems: list[tuple[str, str]] = []
    zone: zoneinfo.ZoneInfo | None = None
    if timezone is not None:
        try:
            zone = _zone(timezone)
        except ValidationError as exc:
            problems += exc.problems
    if isinstance(dosing, str | bytes) or not isinstance(dosing, Sequence):
        problems.append(("$.dosing", f"expected a list of datetimes, got {dosing!r}"))
        dosing = ()
    problems += dosing_problems(dosing)
    if course_start is not None and (
        not isinstance(course_start, dt.datetime) or course_start.utcoffset() is None
    ):
        problems.append(("$.course_start", f"{course_start!r} must be a timezone-aware datetime"))
    if problems:
        raise ValidationError(problems=problems)
    times = tuple(d for d in dosing if isinstance(d, dt.datetime))
    start = course_start if isinstance(course_start, dt.datetime) else (times[0] if times else None)
    if start is None:
        raise ValidationError(
            "give a course_start or at least one dosing time", path="$.course_start"
        )
    if times and utc(start) > utc(times[0]):
        raise ValidationError(
            f"course_start {start.isoformat()} is after the first dosing time {times[0].isoformat()}",
            path="$.course_start",
        )
    return zone, start, times


def _anchors(
    step: PlanStep, start: dt.datetime, dosing: tuple[dt.datetime, ...]
) -> list[tuple[dt.datetime, int | None]]:
    if step.anchor is PlanAnchor.COURSE_START:
        return [(start, None)]
    if step.anchor is PlanAnchor.LAST_DOSING:
        return [(dosing[-1], len(dosing))] if dosing else []
    return [(d, n) for n, d in enumerate(dosing, start=1) if step.selects(n)]


def _conflicts(
    activities: Sequence[PlannedActivity], dosing: Sequence[dt.datetime]
) -> tuple[PlanConflict, ...]:
    """Every dosing session, other than its anchor, inside an activity's window."""
    return tuple(
        PlanConflict(
            step_id=activity.step_id,
            activity=i,
            dose_number=number,
            dosing_time=moment,
            message=f"{activity.label}: its window {activity.window} runs into dosing "
            f"session {number} at {format_time(moment.astimezone(activity.earliest.tzinfo))}",
        )
        for i, activity in enumerate(activities)
        for number, moment in enumerate(dosing, start=1)
        if activity.contains(moment) and utc(moment) != utc(activity.anchor_time)
    )


# --------------------------------------------------------------------------
# Files and the built-in templates
# --------------------------------------------------------------------------


def load_template(path: str | Path, *, instruments: Collection[str] | None = None) -> PlanTemplate:
    """Load a template file: JSON if it ends in ``.json``, TOML otherwise.

    Args:
        path: The file.
        instruments: Instrument ids steps may name (built-ins by default).

    Raises:
        ProtocolError: The file cannot be read or parsed, or any problem in
            it (all reported at once).

    Example:
        >>> from kapproto import get_template, load_template
        >>> template = load_template("src/kapproto/data/templates/kap-weekly-3.toml")
        >>> template.ref, template == get_template("kap-weekly-3")
        (Reference(id='kap-weekly-3', version='1'), True)
    """
    data = read_document(path, error=ProtocolError)
    return PlanTemplate.from_dict(data, instruments=instruments)


@cache
def builtin_templates() -> Mapping[tuple[str, str], PlanTemplate]:
    """Every shipped template by ``(id, version)``, read once from ``data/templates/``.

    Example:
        >>> from kapproto import builtin_templates
        >>> sorted(builtin_templates())[-2:]
        [('kap-guided-4-6', '1'), ('kap-weekly-3', '1')]
    """
    found: dict[tuple[str, str], PlanTemplate] = {}
    for name, data in shipped("templates"):
        try:
            template = PlanTemplate.from_dict(data)
        except ProtocolError as exc:  # a broken shipped file is a bug; say which one
            raise ProtocolError(problems=exc.at(f"$[{name}]").problems) from None
        found[(template.id, template.version)] = template
    return found


def get_template(id: str, version: str | None = None) -> PlanTemplate:
    """A built-in template by id: the latest version unless ``version`` is given.

    Raises:
        UnknownReferenceError: No such template; the message lists the known ones.

    Example:
        >>> get_template("iv-induction-6").version
        '1'
    """
    return latest(builtin_templates(), id, version, kind="template", path="$.template")
