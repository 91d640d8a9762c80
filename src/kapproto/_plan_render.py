"""Renderers of an integration plan: a printable Markdown schedule and iCalendar.

The functions take the plan's parts rather than the plan, so that
:mod:`kapproto._plans` can call them from its methods without an import cycle.
iCalendar output uses the ``icalendar`` package, the ``kapproto[ical]`` extra.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence

from kapproto._activities import PlanConflict, PlannedActivity, format_length, format_time, utc
from kapproto._sessions import Reference
from kapproto.exceptions import UnknownReferenceError

__all__ = ["ICAL_HINT", "instrument_names", "render_ical", "render_markdown"]

ICAL_HINT = "pip install 'kapproto[ical]'"
"""How to install what :meth:`~kapproto.IntegrationPlan.to_ical` needs."""


def instrument_names(ids: Sequence[str]) -> str:
    """Instrument abbreviations for people (``PHQ-9, GAD-7``); an unknown id is shown as is."""
    from kapproto.instruments import get_instrument

    names = []
    for instrument_id in ids:
        try:
            names.append(get_instrument(instrument_id).abbreviation)
        except UnknownReferenceError:
            names.append(instrument_id)
    return ", ".join(names)


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ") or "–"


def _length(activity: PlannedActivity) -> str:
    return format_length(activity.duration) if activity.duration is not None else ""


def render_markdown(
    *,
    title: str,
    template: Reference,
    timezone: zoneinfo.ZoneInfo | None,
    course_start: dt.datetime,
    dosing: Sequence[dt.datetime],
    activities: Sequence[PlannedActivity],
    conflicts: Sequence[PlanConflict],
) -> str:
    """A printable schedule: a table of windows with the dosing sessions between them.

    Then the prompts of each step, the windows that run into a dosing session,
    and where each step's timing comes from.
    """
    zone = f"Times are in {timezone.key}" if timezone else "Times keep the UTC offsets given"
    lines = [
        f"# {title}",
        "",
        f"Plan from template `{template.id}` version {template.version}. {zone}; "
        f"the course starts {format_time(course_start)}.",
        "",
        "| Opens | Closes | Activity | Kind | Length | Instruments |",
        "|---|---|---|---|---|---|",
    ]
    rows = [
        (
            a.earliest,
            1,
            f"| {_cell(format_time(a.earliest))} | {_cell(format_time(a.latest))} | "
            f"{_cell(a.label + ('' if a.required else ' (optional)'))} | {a.kind.value} | "
            f"{_cell(_length(a))} | {_cell(instrument_names(a.instruments))} |",
        )
        for a in activities
    ]
    rows += [
        (moment, 0, f"| {_cell(format_time(moment))} | | **Dosing session {i}** | dosing | | |")
        for i, moment in enumerate(dosing, start=1)
    ]
    lines += [row for _, _, row in sorted(rows, key=lambda r: (utc(r[0]), r[1]))]
    steps: dict[str, PlannedActivity] = {}
    for activity in activities:
        steps.setdefault(activity.step_id, activity)
    prompted = [a for a in steps.values() if a.prompts]
    if prompted:
        lines += ["", "## Prompts"]
        for activity in prompted:
            lines += ["", f"**{activity.title}**", ""]
            lines += [f"- {prompt}" for prompt in activity.prompts]
    if conflicts:
        lines += ["", "## Windows that run into a dosing session", ""]
        lines += [f"- {conflict.message}" for conflict in conflicts]
    lines += ["", "## Sources", ""]
    lines += [f"- `{a.step_id}`: {a.source or 'not given'}" for a in steps.values()]
    return "\n".join(lines) + "\n"


def _description(activity: PlannedActivity) -> str:
    parts = [f"Window: {activity.window}", f"Kind: {activity.kind.value}"]
    if activity.duration is not None:
        parts.append(f"Length: {_length(activity)}")
    if activity.instruments:
        parts.append(f"Instruments: {instrument_names(activity.instruments)}")
    parts += [f"Prompt: {prompt}" for prompt in activity.prompts]
    if activity.source:
        parts.append(f"Source: {activity.source}")
    return "\n".join(parts)


def render_ical(
    *,
    title: str,
    activities: Sequence[PlannedActivity],
    uids: Sequence[str],
    stamp: dt.datetime,
) -> str:
    """One VEVENT per activity, from ``earliest`` to ``latest`` in UTC; deterministic.

    Raises:
        ImportError: ``icalendar`` is not installed (``pip install 'kapproto[ical]'``).
    """
    try:
        import icalendar
    except ImportError:
        raise ImportError(
            f"IntegrationPlan.to_ical() needs the icalendar package; install it with: {ICAL_HINT}",
            name="icalendar",
        ) from None
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//kapproto//integration plan//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", title)
    for activity, uid in zip(activities, uids, strict=True):
        event = icalendar.Event()
        event.add("uid", uid)
        event.add("dtstamp", utc(stamp))
        event.add("dtstart", utc(activity.earliest))
        if utc(activity.latest) > utc(activity.earliest):
            event.add("dtend", utc(activity.latest))
        event.add("summary", activity.label)
        event.add("description", _description(activity))
        event.add("categories", [activity.kind.value])
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    result: bytes = calendar.to_ical()
    return result.decode("utf-8")
