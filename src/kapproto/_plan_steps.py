"""Plan steps and their windows: what happens, anchored where, in which window.

Time: a window bound in s, min or h is elapsed time between instants; a bound
in d or wk keeps its wall-clock meaning in the plan's IANA zone, so "1 d"
after 09:00 is 09:00 the next day even across a DST change.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from functools import cache
from typing import Any

import attrs

from kapproto._activities import StepKind, format_length, instance_of, text, to_tuple
from kapproto._params import Confidence
from kapproto.exceptions import KapprotoError, ValidationError
from kapproto.units import DURATION, Duration, canonical_number, format_quantity, kind_field

__all__ = ["PlanAnchor", "PlanStep", "StepWindow", "WindowSide"]


class PlanAnchor(enum.Enum):
    """What a step's window is measured from.

    ``COURSE_START``: the course start (the first dosing time by default);
    ``EACH_DOSING``: each dosing session (or those chosen by ``every`` or
    ``doses``); ``LAST_DOSING``: the last dosing session.

    Example:
        >>> from kapproto import get_template
        >>> [step.anchor.value for step in get_template("kap-weekly-3").steps][:3]
        ['course_start', 'each_dosing', 'last_dosing']
    """

    COURSE_START = "course_start"
    EACH_DOSING = "each_dosing"
    LAST_DOSING = "last_dosing"


class WindowSide(enum.Enum):
    """Whether a window lies after or before its anchor.

    Example:
        >>> from kapproto import get_template
        >>> get_template("kap-weekly-3").steps[0].window
        StepWindow(side=<WindowSide.BEFORE: 'before'>, start='14 d', end='1 d')
    """

    AFTER = "after"
    BEFORE = "before"


# A window bound: "24 h", "14 d". Units: s/min/h are elapsed time; d/wk wall-clock.
_ELAPSED = {"s": 1, "min": 60, "h": 3600}
_CALENDAR = {"d": 1, "wk": 7}
_BOUND = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*$")


@cache
def _bound(raw: str) -> tuple[float, str]:
    """Parse a window bound into ``(value, UCUM code)``; raises ValidationError."""
    from kapproto.units import parse_unit

    match = _BOUND.match(raw) if isinstance(raw, str) else None
    code = ""
    if match is not None:
        try:
            code = parse_unit(match.group(2)).code
        except KapprotoError:
            code = ""
    if match is None or code not in {**_ELAPSED, **_CALENDAR}:
        if code in {"mo", "a"}:
            raise ValidationError(
                f"{raw!r}: months and years have no fixed length; give the bound in d or wk"
            )
        raise ValidationError(
            f"{raw!r} is not a window bound such as '24 h' or '14 d' "
            "(a number of s, min, h, d or wk, not negative)"
        )
    value = float(match.group(1))
    if code in _CALENDAR and not (value * _CALENDAR[code]).is_integer():
        raise ValidationError(f"{raw!r} is not a whole number of days; give part days in h")
    return value, code


def _seconds(raw: str) -> float:
    """A bound's nominal length in seconds (a day counted as 24 h), for ordering."""
    value, code = _bound(raw)
    return value * (_ELAPSED[code] if code in _ELAPSED else 86400 * _CALENDAR[code])


def _normal(value: object) -> str:
    """A bound in canonical spelling: ``"24h"`` -> ``"24 h"``."""
    if not isinstance(value, str):
        raise ValidationError(f"expected a window bound such as '24 h', got {value!r}")
    number, code = _bound(value)
    return f"{canonical_number(number)} {code}"


def _shift(anchor: dt.datetime, bound: str, sign: int, zone: dt.tzinfo) -> dt.datetime:
    """``anchor`` moved by ``bound``: elapsed for s/min/h, wall-clock in ``zone`` for d/wk."""
    value, code = _bound(bound)
    if code in _ELAPSED:
        moved = anchor.astimezone(dt.UTC) + sign * dt.timedelta(seconds=value * _ELAPSED[code])
        return moved.astimezone(zone)
    wall = anchor.astimezone(zone).replace(tzinfo=None, fold=0)
    wall += sign * dt.timedelta(days=int(value * _CALENDAR[code]))
    # a wall time in a DST gap moves forward by the gap; an ambiguous one takes its first occurrence
    return wall.replace(tzinfo=zone).astimezone(dt.UTC).astimezone(zone)


@attrs.frozen
class StepWindow:
    """An inclusive window relative to an anchor: ``after = [from, to]`` or ``before = [from, to]``.

    Bounds are durations such as ``"24 h"`` or ``"14 d"``. Bounds in s, min
    or h are elapsed time; bounds in d or wk keep their wall-clock meaning in
    the plan's time zone. Both non-zero bounds of a window use the same clock.
    ``after`` runs from ``anchor + from`` to ``anchor + to`` (``from <= to``);
    ``before`` from ``anchor - from`` to ``anchor - to`` (``from >= to``).

    Attributes:
        side: After or before the anchor.
        start: The ``from`` bound, e.g. ``"24 h"``.
        end: The ``to`` bound, e.g. ``"72 h"``.

    Example:
        >>> StepWindow.before("14 d", "1 d")
        StepWindow(side=<WindowSide.BEFORE: 'before'>, start='14 d', end='1 d')
        >>> StepWindow.after("2 d", "1 d")
        Traceback (most recent call last):
        ...
        kapproto.exceptions.ValidationError: $: after = ['2 d', '1 d'] starts after it ends; expected from <= to
    """

    side: WindowSide = attrs.field(validator=instance_of(WindowSide))
    start: str = attrs.field(converter=_normal)
    end: str = attrs.field(converter=_normal)

    def __attrs_post_init__(self) -> None:
        first, last = _seconds(self.start), _seconds(self.end)
        name = self.side.value
        if (self.side is WindowSide.AFTER and first > last) or (
            self.side is WindowSide.BEFORE and first < last
        ):
            relation = "from <= to" if self.side is WindowSide.AFTER else "from >= to"
            raise ValidationError(
                f"{name} = {list(self.bounds)!r} starts after it ends; expected {relation}"
            )
        clocks = {_bound(b)[1] in _CALENDAR for b in self.bounds if _seconds(b) > 0}
        if len(clocks) > 1:
            raise ValidationError(
                f"{name} = {list(self.bounds)!r} mixes wall-clock days with elapsed hours; "
                "give both bounds in d/wk or both in s/min/h"
            )

    @classmethod
    def after(cls, start: str, end: str) -> StepWindow:
        """The window from ``anchor + start`` to ``anchor + end``."""
        return cls(WindowSide.AFTER, start, end)

    @classmethod
    def before(cls, start: str, end: str) -> StepWindow:
        """The window from ``anchor - start`` to ``anchor - end``."""
        return cls(WindowSide.BEFORE, start, end)

    @property
    def bounds(self) -> tuple[str, str]:
        """``(from, to)`` as written in a template file."""
        return self.start, self.end

    def around(self, anchor: dt.datetime, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
        """``(earliest, latest)`` of the window around ``anchor``, in ``zone``.

        Args:
            anchor: The time the window is measured from (timezone-aware).
            zone: The zone in which d and wk bounds keep their wall-clock meaning.
        """
        sign = 1 if self.side is WindowSide.AFTER else -1
        return _shift(anchor, self.start, sign, zone), _shift(anchor, self.end, sign, zone)


def _texts(instance: Any, attribute: attrs.Attribute[Any], value: tuple[object, ...]) -> None:
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise ValidationError(
                f"{item!r} must be a non-empty string", path=f"$.{attribute.name}[{i}]"
            )
        if value.index(item) != i:
            raise ValidationError(f"{item!r} is listed twice", path=f"$.{attribute.name}[{i}]")


def _dose_numbers(value: object) -> object:
    """Dose numbers as a sorted tuple; anything that is not a list of whole numbers is kept for the check."""
    if isinstance(value, list | tuple):
        if all(isinstance(n, int) and not isinstance(n, bool) for n in value):
            return tuple(sorted(value))
        return tuple(value)
    return value


@attrs.frozen
class PlanStep:
    """One step of a template: what happens, anchored where, in which window.

    Attributes:
        id: Step id, unique in its template.
        title: What the step is called on the schedule.
        kind: Preparation, integration, assessment or follow-up.
        anchor: What the window is measured from.
        window: The inclusive window around the anchor.
        every: With ``each_dosing``: only every n-th dosing session (n, 2n, ...).
        doses: With ``each_dosing``: only these dosing sessions (1-based).
        duration: Expected length of the session, a DURATION in min, or ``None``.
        instruments: Instrument ids to give (an assessment step needs one).
        prompts: Prompts for the session.
        required: Whether a missing activity is an ``integration.missing``
            error (or, for assessments, an ``assessment.missing`` warning).
        source: Where the step's timing (window, every/doses, duration) comes from.
        confidence: How sure that source is: ``C``, ``S`` or ``design``, the
            weakest of the step's numbers.

    Example:
        >>> from kapproto import get_template
        >>> step = get_template("kap-weekly-3").steps[0]
        >>> step.id, step.kind, step.instruments, str(step.duration)
        ('prep', <StepKind.PREPARATION: 'preparation'>, ('phq9', 'gad7'), '120.0 minute')
    """

    id: str = attrs.field(validator=text)
    title: str = attrs.field(validator=text)
    kind: StepKind = attrs.field(validator=instance_of(StepKind))
    anchor: PlanAnchor = attrs.field(validator=instance_of(PlanAnchor))
    window: StepWindow = attrs.field(validator=instance_of(StepWindow))
    every: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(instance_of(int))
    )
    doses: tuple[int, ...] = attrs.field(default=(), converter=_dose_numbers)
    duration: Duration | None = kind_field(DURATION, optional=True, default=None)
    instruments: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=_texts)
    prompts: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=_texts)
    required: bool = attrs.field(default=True, validator=instance_of(bool))
    source: str = ""
    confidence: Confidence | None = attrs.field(
        default=None, validator=attrs.validators.optional(instance_of(Confidence))
    )

    def __attrs_post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        selective = self.every is not None or self.doses
        if selective and self.anchor is not PlanAnchor.EACH_DOSING:
            key = "every" if self.every is not None else "doses"
            problems.append(
                (f"$.{key}", f"{key} needs anchor 'each_dosing', not {self.anchor.value!r}")
            )
        if self.every is not None and self.doses:
            problems.append(("$.doses", "give every or doses, not both"))
        if self.every is not None and self.every < 1:
            problems.append(("$.every", f"every={self.every!r} must be 1 or more"))
        doses = self.doses
        if (
            not isinstance(doses, tuple)
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in doses)
            or len(set(doses)) < len(doses)
        ):
            problems.append(("$.doses", f"doses={doses!r} must be distinct whole numbers from 1"))
        if self.duration is not None and self.duration.magnitude <= 0:
            problems.append(
                ("$.duration", f"duration={format_quantity(self.duration)} must be positive")
            )
        if self.kind is StepKind.ASSESSMENT and not self.instruments:
            problems.append(("$.instruments", "an assessment step needs at least one instrument"))
        if problems:
            raise ValidationError(problems=problems)

    def selects(self, number: int) -> bool:
        """Whether an ``each_dosing`` step applies to dosing session ``number`` (1-based)."""
        if self.doses:
            return number in self.doses
        return self.every is None or number % self.every == 0

    def to_dict(self) -> dict[str, Any]:
        """The step in the template file format (omitting defaults)."""
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "kind": self.kind.value,
            "anchor": self.anchor.value,
            self.window.side.value: list(self.window.bounds),
        }
        if self.every is not None:
            out["every"] = self.every
        if self.doses:
            out["doses"] = list(self.doses)
        if self.duration is not None:
            out["duration"] = format_length(self.duration)
        for key in ("instruments", "prompts"):
            if getattr(self, key):
                out[key] = list(getattr(self, key))
        if not self.required:
            out["required"] = False
        if self.source:
            out["source"] = self.source
        if self.confidence is not None:
            out["confidence"] = self.confidence.value
        return out
