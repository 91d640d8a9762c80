"""Check every example record in ``sessions/`` against its protocol.

Shows the main job of kapproto from Python: load a session or course record,
look up the protocol it names in the built-in catalogue, check it with
``check_session`` or ``check_course`` and read the report's status, finding
codes and what could not be evaluated.

Run it from anywhere: ``python examples/check_session.py``. It prints one line
per record and exits 0 (a non-compliant example is not an error here).
"""

from __future__ import annotations

from pathlib import Path

from kapproto import Catalog, Course, Session, check_course, check_session, from_json
from kapproto.serialization import loads, schema_of

SESSIONS = Path(__file__).resolve().parent / "sessions"


def main() -> int:
    """Check each example and print its status, finding codes and missing paths."""
    catalog = Catalog.builtin()
    for path in sorted(SESSIONS.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        if schema_of(loads(text)) == ("course", 1):
            course = from_json(text, Course)
            protocol = catalog.protocol(course.protocol.id, course.protocol.version)
            report = check_course(course, protocol, catalog=catalog)
        else:
            session = from_json(text, Session)
            assert session.protocol is not None, f"{path.name} names no protocol"
            protocol = catalog.protocol(session.protocol.id, session.protocol.version)
            report = check_session(session, protocol, catalog=catalog)
        codes = ", ".join(report.codes()) or "-"
        missing = ", ".join(sorted({n.path for n in report.not_evaluable}))
        ref = f"{protocol.id}@{protocol.version}"
        line = f"{path.name:26} {ref:18} {report.status.value:13} {codes}"
        print(line + (f" (not evaluable: {missing})" if missing else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
