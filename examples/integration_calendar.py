"""Date an integration-plan template for one course and write it as an iCalendar file.

Takes the built-in `kap-weekly-3` template (preparation, three weekly dosing
sessions with integration after each, follow-ups), dates it for three Monday
doses in America/Denver (across the March DST change, so the "days" windows
keep their 09:00 wall-clock time), prints the schedule, and writes
`kap-weekly-3.ics` under $KAPPROTO_EXAMPLE_OUT (or a temporary folder). The
file is read back with icalendar to show one event per activity. Finally it
checks the example course record (`sessions/course.json`) against the plan
built from that course.

Needs the `ical` extra: `pip install 'kapproto[ical]'`.
Run it from anywhere: `python examples/integration_calendar.py`.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import zoneinfo
from pathlib import Path

import icalendar

from kapproto import Course, from_json, get_template

HERE = Path(__file__).resolve().parent
DENVER = zoneinfo.ZoneInfo("America/Denver")


def main() -> int:
    out = Path(os.environ.get("KAPPROTO_EXAMPLE_OUT") or tempfile.mkdtemp())
    template = get_template("kap-weekly-3")
    dosing = [dt.datetime(2026, 3, day, 9, 0, tzinfo=DENVER) for day in (2, 9, 16)]
    plan = template.instantiate(dosing=dosing, timezone=DENVER, id="example-course")

    print(f"{plan.title} ({len(plan.activities)} activities)")
    for activity in plan.activities:
        flag = "" if activity.required else "  (optional)"
        print(f"  {activity.window}  {activity.label}{flag}")
    for conflict in plan.conflicts:
        print(f"  warning: {conflict.message}")

    path = out / "kap-weekly-3.ics"
    path.write_text(plan.to_ical(), encoding="utf-8", newline="")
    events = list(icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT"))
    assert len(events) == len(plan.activities), "one VEVENT per activity"
    assert plan.to_ical().encode() == path.read_bytes(), "the same plan gives the same file"
    print(f"wrote {path} ({len(events)} events)")

    course = from_json((HERE / "sessions" / "course.json").read_bytes(), Course)
    findings = template.for_course(course).adherence(course)
    print(f"course {course.id}: {len(findings)} adherence finding(s)")
    for found in findings:
        print(f"  {found.severity.value} {found.code}: {found.message}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
