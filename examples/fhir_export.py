"""Export KAP session records to FHIR R4 Bundles, check them, and read a dose back.

Reads the example IM session (`sessions/im-session.json`) and the dosing
sessions of one synthetic course (SYNTHETIC DATA, labelled so), turns each
into a FHIR R4 `collection` Bundle with `kapproto.fhir.to_fhir`, checks it
with `kapproto.fhir.validate` (UCUM units, invariant mad-1, status codes) and
writes it under $KAPPROTO_EXAMPLE_OUT (or a temporary folder). The output is
deterministic: the same record gives byte-identical JSON. It then reads the
first MedicationAdministration back with `from_fhir`, which gives the same
Administration record.

Run it from anywhere: `python examples/fhir_export.py`.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from kapproto import Session, from_json, synthetic
from kapproto.fhir import dumps, from_fhir, to_fhir, validate

HERE = Path(__file__).resolve().parent


def export(session: Session, out: Path) -> Any:
    """Write one session's Bundle to `out` and return the Bundle."""
    bundle = to_fhir(session)
    validate(bundle)
    text = dumps(bundle)
    assert text == dumps(to_fhir(session)), "FHIR output must be deterministic"
    (out / f"{session.id}.fhir.json").write_text(text, encoding="utf-8")
    return bundle


def main() -> int:
    out = Path(os.environ.get("KAPPROTO_EXAMPLE_OUT") or tempfile.mkdtemp())
    session = from_json(
        (HERE / "sessions" / "im-session.json").read_text(encoding="utf-8"), Session
    )
    course = synthetic.cohort(1, seed=3, protocol="esketamine-trd")[0]
    for s in (session, *course.dosing_sessions[:2]):
        bundle = export(s, out)
        kinds = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
        print(f"{s.id}: " + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())))

    first = next(
        e["resource"]
        for e in to_fhir(session)["entry"]
        if e["resource"]["resourceType"] == "MedicationAdministration"
    )
    back = from_fhir(first)
    print("round trip of the first administration:", back == session.administrations[0])
    print(f"Bundles written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
