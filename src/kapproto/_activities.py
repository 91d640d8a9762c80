"""The dated parts of an integration plan: activities and the conflicts between them.

These records sit below :mod:`kapproto._plans` so that the renderers and the
adherence check can use them without knowing the plan itself.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from kapproto._validators import aware, text
from kapproto.exceptions import ValidationError
from kapproto.units import DURATION, Duration, format_quantity, kind_field

__all__ = [
    "PlanConflict",
    "PlannedActivity",
    "StepKind",
    "dosing_problems",
    "format_length",
    "format_time",
    "instance_of",
    "text",
    "to_tuple",
    "utc",
]

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def format_time(moment: dt.datetime) -> str:
    """A time for people, the same in every locale: ``Mon 2026-03-02 09:00 MST``.

    Example:
        >>> import zoneinfo
        >>> format_time(dt.datetime(2026, 3, 2, 9, 0, tzinfo=zoneinfo.ZoneInfo("America/Denver")))
        'Mon 2026-03-02 09:00 MST'
    """
    return f"{_WEEKDAYS[moment.weekday()]} {moment:%Y-%m-%d %H:%M} {moment.tzname()}"


def format_length(duration: Duration) -> str:
    """A session length for people: whole hours in h, anything else in min.

    Example:
        >>> from kapproto.units import quantity
        >>> format_length(quantity("120 min")), format_length(quantity("1.5 h"))
        ('2 h', '90 min')
    """
    minutes = DURATION.check(duration).magnitude
    if minutes % 60 == 0:
        return format_quantity(duration, "h")
    return format_quantity(duration)


def utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC, for comparing and subtracting.

    Python compares two datetimes that share a tzinfo by wall time, ignoring
    ``fold``, which is wrong in the hour repeated when DST ends; in UTC every
    instant is compared as an instant.
    """
    return moment.astimezone(dt.UTC)


def instance_of(cls: type) -> Callable[[Any, attrs.Attribute[Any], object], None]:
    """Validator for attrs fields: an instance of ``cls`` (a ValidationError otherwise, never a TypeError)."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, cls) or (cls is int and isinstance(value, bool)):
            expected = cls.__name__
            if issubclass(cls, enum.Enum):
                expected += f" ({', '.join(m.value for m in cls)})"
            raise ValidationError(
                f"{attribute.name}={value!r} must be a {expected}", path=f"$.{attribute.name}"
            )

    return check


def to_tuple(value: object) -> object:
    """Converter for attrs fields: a list becomes a tuple, so records stay immutable values."""
    return tuple(value) if isinstance(value, list) else value


def dosing_problems(dosing: Sequence[object], path: str = "$.dosing") -> list[tuple[str, str]]:
    """Problems with a list of dosing times: not aware datetimes, not sorted, not distinct.

    Example:
        >>> utc = dt.timezone.utc
        >>> dosing_problems([dt.datetime(2026, 3, 9, tzinfo=utc), dt.datetime(2026, 3, 2, tzinfo=utc)])
        [('$.dosing[1]', '2026-03-02T00:00:00+00:00 is not after 2026-03-09T00:00:00+00:00; dosing times must be sorted and distinct')]
    """
    problems: list[tuple[str, str]] = []
    previous: dt.datetime | None = None
    for i, moment in enumerate(dosing):
        if not isinstance(moment, dt.datetime):
            problems.append((f"{path}[{i}]", f"{moment!r} is not a datetime"))
        elif moment.utcoffset() is None:
            problems.append(
                (
                    f"{path}[{i}]",
                    f"{moment.isoformat()} is a naive datetime; give its UTC offset or zone",
                )
            )
        else:
            if previous is not None and utc(moment) <= utc(previous):
                problems.append(
                    (
                        f"{path}[{i}]",
                        f"{moment.isoformat()} is not after {previous.isoformat()}; "
                        "dosing times must be sorted and distinct",
                    )
                )
            previous = moment
    return problems


class StepKind(enum.Enum):
    """What a plan step is: the session kind it asks for, or an assessment.

    ``PREPARATION``, ``INTEGRATION`` and ``FOLLOW_UP`` are met by a session of
    the same :class:`~kapproto.SessionKind`; ``ASSESSMENT`` is met by the
    step's instruments being given, in any session.

    Example:
        >>> from kapproto import get_template
        >>> [step.kind.value for step in get_template("kap-weekly-3").steps][:3]
        ['preparation', 'integration', 'follow_up']
    """

    PREPARATION = "preparation"
    INTEGRATION = "integration"
    ASSESSMENT = "assessment"
    FOLLOW_UP = "follow_up"


@attrs.frozen
class PlannedActivity:
    """One dated activity of a plan: a step's window around its anchor.

    Attributes:
        step_id: Id of the template step it comes from.
        kind: Preparation, integration, assessment or follow-up.
        title: The step's title.
        earliest: Start of the window (inclusive, timezone-aware).
        latest: End of the window (inclusive), not before ``earliest``.
        anchor_time: The time the window is measured from: the course start
            or a dosing session's time.
        instruments: Instrument ids to give during the activity.
        dose_number: The dosing session (1-based) the window is anchored at,
            or ``None`` when it is anchored at the course start.
        duration: Expected length of the session, a DURATION in min, or ``None``.
        prompts: Prompts for the session.
        required: Whether its absence is an ``integration.missing`` finding.
        source: Where the step's timing comes from.

    Example:
        >>> from kapproto import Course, from_json, get_template
        >>> course = from_json(open("examples/sessions/course.json").read(), Course)
        >>> first = get_template("kap-weekly-3").for_course(course).activities[0]
        >>> first.step_id, first.kind, str(first.earliest.date()), str(first.latest.date())
        ('prep', <StepKind.PREPARATION: 'preparation'>, '2026-02-16', '2026-03-01')
    """

    step_id: str = attrs.field(validator=text)
    kind: StepKind = attrs.field(validator=instance_of(StepKind))
    title: str = attrs.field(validator=text)
    earliest: dt.datetime = attrs.field(validator=aware)
    latest: dt.datetime = attrs.field(validator=aware)
    anchor_time: dt.datetime = attrs.field(validator=aware)
    instruments: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    dose_number: int | None = None
    duration: Duration | None = kind_field(DURATION, optional=True, default=None)
    prompts: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    required: bool = attrs.field(default=True, validator=instance_of(bool))
    source: str = ""

    def __attrs_post_init__(self) -> None:
        if utc(self.latest) < utc(self.earliest):
            raise ValidationError(
                f"latest {self.latest.isoformat()} is before earliest {self.earliest.isoformat()}",
                path="$.latest",
            )
        if self.dose_number is not None and self.dose_number < 1:
            raise ValidationError(
                f"dose_number={self.dose_number!r} must be 1 or more", path="$.dose_number"
            )

    @property
    def label(self) -> str:
        """The title with the dosing session it belongs to, for people."""
        if self.dose_number is None:
            return self.title
        return f"{self.title} (dosing session {self.dose_number})"

    @property
    def window(self) -> str:
        """The window as people read it, e.g. ``Mon 2026-03-02 09:00 MST – Wed 2026-03-04 09:00 MST``."""
        return f"{format_time(self.earliest)} – {format_time(self.latest)}"

    def contains(self, moment: dt.datetime) -> bool:
        """Whether ``moment`` lies in the window (both ends included).

        Args:
            moment: A timezone-aware time, compared as an instant.
        """
        return utc(self.earliest) <= utc(moment) <= utc(self.latest)


@attrs.frozen
class PlanConflict:
    """A window that runs into a dosing session other than its anchor.

    Reported, not resolved: the plan keeps the window as the template defines
    it, and the clinic decides.

    Attributes:
        step_id: The step whose window it is.
        activity: Index of the activity in the plan's ``activities``.
        dose_number: The dosing session (1-based) inside the window.
        dosing_time: When that dosing session is.
        message: The conflict, for people.

    Example:
        >>> import datetime as dt
        >>> from kapproto import get_template
        >>> days = [dt.datetime(2026, 3, d, 16, tzinfo=dt.timezone.utc) for d in (2, 3, 9)]
        >>> conflict = get_template("kap-weekly-3").instantiate(dosing=days).conflicts[0]
        >>> conflict.step_id, conflict.dose_number, conflict.dosing_time.day
        ('integration', 2, 3)
    """

    step_id: str = attrs.field(validator=text)
    activity: int
    dose_number: int
    dosing_time: dt.datetime = attrs.field(validator=aware)
    message: str
