"""Tests of the ``kapproto plan`` command and ``kapproto list templates``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import icalendar
import pytest

from kapproto import IntegrationPlan, from_json, get_template
from kapproto.cli import main
from kapproto.cli._common import DISCLAIMER
from kapproto.fhir import to_fhir

DOSING = ("--dosing", "2026-03-02T09:00", "2026-03-09T09:00", "2026-03-16T09:00")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_markdown_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    """Markdown schedule in the zone given, with the not-medical-advice line."""
    code, out, err = run(capsys, "plan", "kap-weekly-3", *DOSING, "--timezone", "America/Denver")
    assert (0, "") == (code, err)
    assert out.startswith("# Three weekly KAP dosing sessions")
    assert "| Mon 2026-03-09 09:00 MDT | | **Dosing session 2** | dosing | | |" in out
    assert DISCLAIMER in out


def test_plan_json_is_the_plan_document(capsys: pytest.CaptureFixture[str]) -> None:
    """--format json prints a kapproto.plan/1 document equal to instantiate's plan."""
    code, out, _ = run(
        capsys, "plan", "kap-weekly-3", *DOSING, "--timezone", "America/Denver",
        "--start", "2026-02-20", "--id", "c-17", "--format", "json",
    )  # fmt: skip
    plan = from_json(out, IntegrationPlan)
    denver = plan.timezone
    expected = get_template("kap-weekly-3").instantiate(
        course_start=dt.datetime(2026, 2, 20, tzinfo=denver),
        dosing=[dt.datetime(2026, 3, d, 9, tzinfo=denver) for d in (2, 9, 16)],
        timezone=denver,
        id="c-17",
    )
    assert (0, "kapproto.plan/1", expected) == (code, json.loads(out)["schema"], plan)


def test_plan_fhir_is_the_careplan(capsys: pytest.CaptureFixture[str]) -> None:
    """--format fhir prints the CarePlan of the plan --format json prints."""
    args = ("plan", "kap-weekly-3", *DOSING, "--timezone", "America/Denver", "--id", "c-17")
    _, document, _ = run(capsys, *args, "--format", "json")
    code, out, _ = run(capsys, *args, "--format", "fhir")
    assert (0, to_fhir(from_json(document, IntegrationPlan))) == (code, json.loads(out))


def test_plan_ics_parses_and_warns_of_conflicts(capsys: pytest.CaptureFixture[str]) -> None:
    """--format ics prints a calendar; windows that run into a dose are warned on stderr."""
    code, out, err = run(
        capsys, "plan", "kap-weekly-3", "--dosing", "2026-03-02T09:00-07:00", "2026-03-03T09:00-07:00",
        "--timezone", "America/Denver", "--format", "ics",
    )  # fmt: skip
    events = list(icalendar.Calendar.from_ical(out).walk("VEVENT"))
    assert (0, 7) == (code, len(events))  # prep, 2 integrations, 4 follow-ups
    assert "kapproto: warning: Integration session (dosing session 1): its window" in err


def test_plan_from_a_template_file_and_versioned_id(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """TEMPLATE may be a TOML/JSON file or id@version."""
    path = tmp_path / "clinic.json"
    data = get_template("iv-induction-6").to_dict()
    data["id"] = "clinic-iv"
    path.write_text(json.dumps(data), encoding="utf-8")
    code, out, _ = run(capsys, "plan", str(path), "--dosing", "2026-03-02", "--timezone", "UTC")
    assert (0, True) == (code, "`clinic-iv` version 1" in out)
    code, out, _ = run(
        capsys, "plan", "iv-induction-6@1", "--dosing", "2026-03-02", "--timezone", "UTC"
    )
    assert (0, True) == (code, "Mon 2026-02-23 00:00 UTC" in out)


@pytest.mark.parametrize(
    ("argv", "path", "message"),
    [
        (("nope", "--dosing", "2026-03-02"), "$.template", "unknown template 'nope'"),
        (
            ("kap-weekly-3", "--dosing", "2026-03-02", "--timezone", "Mars/Base"),
            "$.timezone",
            "IANA",
        ),
        (("kap-weekly-3", "--dosing", "2 March"), "$.dosing[0]", "not an ISO 8601"),
        (("kap-weekly-3", "--dosing", "2026-03-09", "2026-03-02"), "$.dosing[1]", "sorted"),
        (("kap-weekly-3", "--start", "tomorrow", "--dosing", "2026-03-02"), "$.start", "ISO 8601"),
        (("kap-weekly-3",), "$.course_start", "give a course_start or at least one dosing time"),
    ],
)
def test_bad_input_exits_2_with_path(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], path: str, message: str
) -> None:
    """Invalid input: exit 2, the path and message on stderr, nothing on stdout, no traceback."""
    if "--timezone" not in argv:
        argv = (*argv, "--timezone", "UTC")
    code, out, err = run(capsys, "plan", *argv)
    assert (2, "") == (code, out)
    assert path in err
    assert message in err
    assert "Traceback" not in err


def test_bad_template_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A template file with problems lists them all on stderr."""
    path = tmp_path / "bad.toml"
    path.write_text('id = "x"\nversion = "1"\ntitle = "X"\nsource = "s"\n[[steps]]\nid = "a"\n')
    code, _, err = run(capsys, "plan", str(path), "--dosing", "2026-03-02", "--timezone", "UTC")
    assert 2 == code
    assert "ProtocolError" in err
    assert "$.steps[0].kind: step 'a': required key is missing" in err


def test_ics_without_the_extra_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without icalendar the command says how to install it and exits 2."""
    monkeypatch.setitem(sys.modules, "icalendar", None)
    code, out, err = run(
        capsys,
        "plan",
        "kap-weekly-3",
        "--dosing",
        "2026-03-02",
        "--timezone",
        "UTC",
        "--format",
        "ics",
    )
    assert (2, "") == (code, out)
    assert "pip install 'kapproto[ical]'" in err


def test_list_templates(capsys: pytest.CaptureFixture[str]) -> None:
    """The command kapproto list templates shows each built-in with its version and step count."""
    code, out, _ = run(capsys, "list", "templates", "--format", "json")
    rows = {r["id"]: r for r in json.loads(out)}
    assert 0 == code
    assert {"esketamine-trd-induction", "iv-induction-6", "kap-guided-4-6", "kap-weekly-3"} == set(
        rows
    )
    assert {"id": "kap-weekly-3", "version": "1", "steps": "6"} == {
        k: rows["kap-weekly-3"][k] for k in ("id", "version", "steps")
    }
