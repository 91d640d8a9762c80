"""Check sessions against a clinic's own protocol, rule set and template.

`clinic/` holds Clinic X's files (made up, for the example): a protocol
(`clinic-kap.toml`) that names its own rule set (`clinic-eligibility.toml`)
and integration template (`clinic-kap-4.toml`). `Catalog.builtin().with_files`
adds them to kapproto's built-in reference data and checks that the
protocol's references resolve. The script then checks

1. each session in `sessions/` against the protocol version it names, and
2. a synthetic cohort of 20 courses generated under the clinic's protocol
   (SYNTHETIC DATA, labelled so), counting the courses by status, and
3. one course against its integration plan, dated from the clinic's
   template (adherence).

Run it from anywhere: `python examples/custom_protocol/check.py`. It exits 0
(a non-compliant example is the point, not an error).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from kapproto import Catalog, Session, check_course, check_session, from_json, synthetic

HERE = Path(__file__).resolve().parent


def main() -> int:
    catalog = Catalog.builtin().with_files(HERE / "clinic")
    protocol = catalog.protocol("clinic-x-kap")
    print(f"{protocol.id}@{protocol.version}: {protocol.title}")
    print(f"  rule set {protocol.ruleset}, template {protocol.template}")

    for path in sorted((HERE / "sessions").glob("*.json")):
        session = from_json(path.read_text(encoding="utf-8"), Session)
        assert session.protocol is not None, f"{path.name} names no protocol"
        ran_under = catalog.protocol(session.protocol.id, session.protocol.version)
        report = check_session(session, ran_under, catalog=catalog)
        codes = ", ".join(report.codes()) or "-"
        print(f"{path.name:18} {report.status.value:13} {codes}")

    courses = synthetic.cohort(20, seed=7, protocol=protocol, catalog=catalog)
    statuses = Counter(check_course(c, protocol, catalog=catalog).status.value for c in courses)
    print("synthetic courses by status:", dict(sorted(statuses.items())))

    # The clinic's template dates one course's activities around its dosing sessions.
    course = courses[0]
    assert protocol.template is not None
    template = catalog.template(protocol.template.id, protocol.template.version)
    plan = template.instantiate(
        dosing=[s.administrations[0].start for s in course.dosing_sessions],
        timezone=course.timezone.key,
    )
    print(f"plan for {course.id} from {template.id}@{template.version}:")
    for activity in plan.activities:
        print(f"  {activity.step_id:12} {activity.earliest:%Y-%m-%d} .. {activity.latest:%Y-%m-%d}")
    print(f"  adherence findings: {[f.code for f in plan.adherence(course)] or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
