"""Tests for ``kapproto fhir``."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from kapproto import Course, get_template
from kapproto.cli import main
from kapproto.fhir import to_fhir
from kapproto.screening import screen
from kapproto.serialization import from_json, to_json

EXAMPLE = Path(__file__).parent.parent / "examples" / "sessions" / "im-session.json"


def test_writes_bundle_to_output(tmp_path: Path) -> None:
    """--output gets a collection Bundle whose first entry is the Encounter."""
    out = tmp_path / "bundle.json"
    assert 0 == main(["fhir", str(EXAMPLE), "--output", str(out)])
    bundle = json.loads(out.read_text(encoding="utf-8"))
    assert ("Bundle", "collection", "Encounter") == (
        bundle["resourceType"],
        bundle["type"],
        bundle["entry"][0]["resource"]["resourceType"],
    )


def test_stdout_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    """Two runs print byte-identical JSON."""
    main(["fhir", str(EXAMPLE)])
    first = capsys.readouterr().out
    main(["fhir", str(EXAMPLE)])
    assert first == capsys.readouterr().out


def test_wrong_schema_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A document of a kind kapproto does not export exits 2 with $.schema on stderr."""
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"schema": "kapproto.facts/1"}), encoding="utf-8")
    assert 2 == main(["fhir", str(path)])
    assert "$.schema" in capsys.readouterr().err


def test_invalid_session_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A session with a naive start exits 2 naming the path, no traceback."""
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["start"] = "2026-03-02T09:00:00"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert 2 == main(["fhir", str(path)])
    err = capsys.readouterr().err
    assert ("$.start" in err, "Traceback" in err) == (True, False)


COURSE = EXAMPLE.parent / "course.json"
CLINIC = EXAMPLE.parent.parent / "custom_protocol" / "clinic" / "clinic-kap.toml"


def run_fhir(path: Path, *extra: str, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run ``kapproto fhir`` on ``path``, check exit 0, return the parsed stdout."""
    assert 0 == main(["fhir", str(path), *extra])
    return json.loads(capsys.readouterr().out)


def test_course_gives_one_bundle(capsys: pytest.CaptureFixture[str]) -> None:
    """A course document gives one Bundle of every effective session's entries."""
    course = from_json(COURSE.read_text(encoding="utf-8"), Course)
    bundle = run_fhir(COURSE, capsys=capsys)
    assert to_fhir(course) == bundle


def test_plan_gives_careplan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A kapproto.plan/1 document gives a CarePlan; --patient sets its subject."""
    start = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    plan = get_template("kap-weekly-3").instantiate(dosing=[start])
    path = tmp_path / "plan.json"
    path.write_text(to_json(plan), encoding="utf-8")
    r = run_fhir(path, "--patient", "p7", capsys=capsys)
    assert ("CarePlan", {"reference": "Patient/p7"}) == (r["resourceType"], r["subject"])


def test_screening_report_gives_cards(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A kapproto.screening_report/1 document gives the report's CDS Hooks cards."""
    facts = json.loads((EXAMPLE.parent.parent / "screening" / "healthy-candidate.json").read_text())
    report = screen(facts, "ketamine-contraindications")
    path = tmp_path / "report.json"
    path.write_text(to_json(report), encoding="utf-8")
    assert to_fhir(report) == run_fhir(path, capsys=capsys)


def test_toml_protocol_gives_plandefinition(capsys: pytest.CaptureFixture[str]) -> None:
    """A TOML protocol file (no schema) gives a PlanDefinition."""
    assert "PlanDefinition" == run_fhir(CLINIC, capsys=capsys)["resourceType"]


def test_json_protocol_detected_by_doses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A JSON protocol is recognised by its doses key and gives the same PlanDefinition."""
    path = tmp_path / "protocol.json"
    path.write_text(json.dumps(tomllib.loads(CLINIC.read_text(encoding="utf-8"))), encoding="utf-8")
    assert run_fhir(CLINIC, capsys=capsys) == run_fhir(path, capsys=capsys)


def test_bad_protocol_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A protocol file with a bad dose entry exits 2 naming the path."""
    path = tmp_path / "bad.toml"
    path.write_text('id = "x"\nversion = "1"\ntitle = "X"\n[[doses]]\nroute = "ear"\n', "utf-8")
    assert 2 == main(["fhir", str(path)])
    assert "$.doses[0].route" in capsys.readouterr().err
