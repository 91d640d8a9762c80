"""Tests of ``kapproto check`` and ``kapproto list protocols``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kapproto.cli import main
from kapproto.cli._common import DISCLAIMER

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "sessions"
CLINIC = Path(__file__).resolve().parent / "fixtures" / "clinic"


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    """Run the command; return (exit code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def example(name: str) -> dict[str, Any]:
    """The parsed JSON of an example record."""
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


def write(tmp_path: Path, data: Any, name: str = "record.json") -> Path:
    """Write ``data`` as a JSON file in ``tmp_path``."""
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# Exit codes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("im-session.json", 0),
        ("esketamine-session.json", 0),
        ("course.json", 0),
        ("early-discharge.json", 1),
        ("missing-recheck.json", 1),
        ("dose-above-limit.json", 1),
        ("troche-by-im.json", 1),
        ("no-discharge-time.json", 3),
    ],
)
def test_exit_code_per_example(capsys: pytest.CaptureFixture[str], name: str, code: int) -> None:
    """0 compliant, 1 noncompliant, 3 incomplete, for every example record."""
    assert code == run(capsys, "check", EXAMPLES / name)[0]


# ---------------------------------------------------------------------------
# Text output
# ---------------------------------------------------------------------------


def test_compliant_text(capsys: pytest.CaptureFixture[str]) -> None:
    """A compliant session shows its status, subject, protocol id and version, and the disclaimer."""
    code, out, err = run(capsys, "check", EXAMPLES / "im-session.json")
    lines = out.splitlines()
    assert (0, "") == (code, err)
    assert lines[0].startswith("COMPLIANT: ")
    assert "(session s-001)" in lines[0]
    assert lines[1].startswith("protocol im-kap version 1: ")
    assert "(reference protocol)" in lines[1]
    assert "Findings: none" in lines
    assert "Not configured by the protocol: " in out
    assert DISCLAIMER == lines[-1]


def test_noncompliant_text_has_a_findings_table(capsys: pytest.CaptureFixture[str]) -> None:
    """Findings are a table of severity, code, where and what."""
    code, out, _ = run(capsys, "check", EXAMPLES / "early-discharge.json")
    lines = out.splitlines()
    assert 1 == code
    assert lines[0].startswith("NONCOMPLIANT: ")
    header = lines.index("Findings:") + 1
    assert ["severity", "code", "where", "what"] == lines[header].split()
    row = lines[header + 2].split(maxsplit=3)
    assert ["error", "monitoring.observation_too_short", "$.discharged_at"] == row[:3]
    assert "120 min" in row[3]
    assert DISCLAIMER in out


def test_incomplete_text_lists_what_was_not_evaluable(capsys: pytest.CaptureFixture[str]) -> None:
    """An incomplete session lists each check not evaluable with the missing path."""
    code, out, _ = run(capsys, "check", EXAMPLES / "no-discharge-time.json")
    lines = out.splitlines()
    assert 3 == code
    assert lines[0].startswith("INCOMPLETE: ")
    start = lines.index("Not evaluable (missing from the record):") + 1
    assert ["check", "missing", "why"] == lines[start].split()
    assert ["monitoring.min_observation", "$.discharged_at"] == lines[start + 2].split()[:2]
    assert DISCLAIMER in out


def test_acknowledged_warning_is_marked(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """An acknowledged warning shows as 'warning (acknowledged)'."""
    data = example("im-session.json")
    data["vitals"][0]["systolic"] = {"value": 150, "unit": "mm[Hg]"}
    data["acknowledgements"] = [
        {
            "code": "monitoring.bp_elevated_predose",
            "role": "prescriber",
            "reason": "benefit outweighs risk",
            "time": data["start"],
        }
    ]
    code, out, _ = run(capsys, "check", write(tmp_path, data))
    assert 0 == code
    assert "warning (acknowledged)  monitoring.bp_elevated_predose" in out


def test_course_text_names_the_course(capsys: pytest.CaptureFixture[str]) -> None:
    """A course is checked as a course and named as one."""
    code, out, _ = run(capsys, "check", EXAMPLES / "course.json")
    assert 0 == code
    assert "(course c-001)" in out.splitlines()[0]


def test_course_finding_paths_name_the_session(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """In a course, a session's finding path starts with its place in the course."""
    data = example("course.json")
    data["sessions"][5]["administrations"][0]["amount"] = {"value": 90, "unit": "mg"}
    code, out, _ = run(capsys, "check", write(tmp_path, data))
    assert 1 == code
    assert "$.sessions[5].administrations[0]" in out


# ---------------------------------------------------------------------------
# JSON output
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("im-session.json", "compliant"),
        ("dose-above-limit.json", "noncompliant"),
        ("no-discharge-time.json", "incomplete"),
        ("course.json", "compliant"),
    ],
)
def test_json_output_parses(capsys: pytest.CaptureFixture[str], name: str, status: str) -> None:
    """--format json prints the compliance report document, nothing else."""
    _, out, _ = run(capsys, "check", EXAMPLES / name, "--format", "json")
    report = json.loads(out)
    assert ("kapproto.compliance_report/1", status) == (report["schema"], report["status"])
    assert {"id": "im-kap", "version": "1"} == report["protocol"]
    assert DISCLAIMER not in out


def test_json_output_has_findings_and_not_evaluable(capsys: pytest.CaptureFixture[str]) -> None:
    """The JSON report carries codes, paths and the missing data."""
    _, out, _ = run(capsys, "check", EXAMPLES / "dose-above-limit.json", "--format", "json")
    (found,) = json.loads(out)["findings"]
    assert ("dose.above_max", "error", "$.administrations[0]") == (
        found["code"],
        found["severity"],
        found["path"],
    )
    _, out, _ = run(capsys, "check", EXAMPLES / "no-discharge-time.json", "--format", "json")
    assert "$.discharged_at" in [n["path"] for n in json.loads(out)["not_evaluable"]]


# ---------------------------------------------------------------------------
# Bad input: exit 2, the path on stderr, no traceback
# ---------------------------------------------------------------------------


def bad_input(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> str:
    """Run a check expected to fail on its input; return stderr."""
    code, out, err = run(capsys, "check", *argv)
    assert (2, "") == (code, out)
    assert "Traceback" not in err
    assert err.startswith("kapproto: ")
    return err


def test_naive_time_names_its_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A time without an offset is refused with its JSON path."""
    data = example("im-session.json")
    data["vitals"][1]["time"] = "2026-03-02T09:50:00"
    assert "$.vitals[1].time" in bad_input(capsys, write(tmp_path, data))


def test_course_input_error_names_the_session(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An input error inside a course names the session's place in the course."""
    data = example("course.json")
    data["sessions"][3]["weight"] = {"value": 800, "unit": "kg"}
    assert "$.sessions[3].weight" in bad_input(capsys, write(tmp_path, data))


def test_unknown_key_names_its_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """An unknown key is an error at its path."""
    data = example("im-session.json")
    data["administrations"][0]["dose"] = "40 mg"
    assert "$.administrations[0].dose: unknown key" in bad_input(capsys, write(tmp_path, data))


def test_unknown_schema_version(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A newer schema version is refused, naming it."""
    data = {**example("im-session.json"), "schema": "kapproto.session/9"}
    assert "$.schema: schema 'kapproto.session/9' is newer" in bad_input(
        capsys, write(tmp_path, data)
    )


def test_not_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A file that is not JSON is bad input."""
    path = tmp_path / "record.json"
    path.write_text("{not json", encoding="utf-8")
    assert "JSON" in bad_input(capsys, path)


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A file that does not exist is bad input, not a traceback."""
    assert "absent.json" in bad_input(capsys, tmp_path / "absent.json")


def test_record_without_protocol(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A record naming no protocol needs --protocol, said at $.protocol."""
    data = {**example("im-session.json"), "protocol": None}
    err = bad_input(capsys, write(tmp_path, data))
    assert "$.protocol" in err
    assert "--protocol" in err
    assert 0 == run(capsys, "check", write(tmp_path, data), "--protocol", "im-kap")[0]


def test_unknown_protocol_id(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown --protocol id is bad input listing the known protocols."""
    err = bad_input(capsys, EXAMPLES / "im-session.json", "--protocol", "im-kapp")
    assert "UnknownReferenceError" in err
    assert "  --protocol: unknown protocol 'im-kapp'" in err
    assert "im-kap@1" in err


def test_unknown_protocol_named_by_the_record(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A record naming an unknown protocol is bad input at $.protocol."""
    data = {**example("im-session.json"), "protocol": {"id": "nope", "version": "1"}}
    err = bad_input(capsys, write(tmp_path, data))
    assert "  $.protocol: unknown protocol 'nope@1'" in err


def test_bad_protocol_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """An inconsistent --protocol file is bad input with its paths."""
    path = tmp_path / "p.toml"
    path.write_text('id = "x"\nversion = "1"\ntitle = "x"\n', encoding="utf-8")
    assert "$.doses" in bad_input(capsys, EXAMPLES / "im-session.json", "--protocol", path)


# ---------------------------------------------------------------------------
# --protocol and --catalog
# ---------------------------------------------------------------------------


def test_protocol_by_id_overrides_the_record(capsys: pytest.CaptureFixture[str]) -> None:
    """--protocol ID checks the record against that protocol instead of its own."""
    code, out, _ = run(capsys, "check", EXAMPLES / "im-session.json", "--protocol", "sc-racemic")
    assert 1 == code
    assert "protocol sc-racemic version 1" in out
    assert "dose.route_not_allowed" in out


def test_protocol_by_path(capsys: pytest.CaptureFixture[str]) -> None:
    """--protocol PATH loads a protocol file (here a built-in one by its path)."""
    path = (
        Path(__file__).resolve().parent.parent / "src/kapproto/data/protocols/esketamine-trd.toml"
    )
    code, out, _ = run(capsys, "check", EXAMPLES / "esketamine-session.json", "--protocol", path)
    assert 0 == code
    assert "protocol esketamine-trd version 1" in out


def test_clinic_protocol_by_path_with_its_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    """A clinic protocol file resolves its rule set through --catalog."""
    code, out, _ = run(
        capsys,
        "check",
        EXAMPLES / "im-session.json",
        "--protocol",
        CLINIC / "clinic-im.toml",
        "--catalog",
        CLINIC,
    )
    assert 0 == code
    assert "protocol clinic-im version 2: Clinic X intramuscular KAP" in out
    assert "(reference protocol)" not in out


def test_clinic_protocol_without_its_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --catalog the clinic protocol's rule set is missing: bad input naming it."""
    err = bad_input(capsys, EXAMPLES / "im-session.json", "--protocol", CLINIC / "clinic-im.toml")
    assert "clinic-im@2:$.ruleset" in err


def test_catalog_folder_adds_protocol_ids(capsys: pytest.CaptureFixture[str]) -> None:
    """--catalog DIR makes the clinic's protocol ids usable with --protocol."""
    code, out, _ = run(
        capsys,
        "check",
        EXAMPLES / "esketamine-session.json",
        "--catalog",
        CLINIC,
        "--protocol",
        "clinic-im",
    )
    assert 1 == code
    assert "dose.route_not_allowed" in out


def test_clinic_schedule_over_a_course(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A course checked under the clinic's weekly minimum flags doses 4 days apart."""
    data = example("course.json")
    moved = json.dumps(data["sessions"][3]).replace("2026-03-09T", "2026-03-06T")
    data["sessions"][3] = json.loads(moved.replace("-06:00", "-07:00"))
    code, out, _ = run(
        capsys, "check", write(tmp_path, data), "--catalog", CLINIC, "--protocol", "clinic-im"
    )
    assert 1 == code
    assert "schedule.interval_too_short" in out


def test_bad_catalog_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A broken file in --catalog is bad input naming the file and path."""
    (tmp_path / "broken.toml").write_text('id = "x"\ncolour = 1\n[[doses]]\n', encoding="utf-8")
    err = bad_input(capsys, EXAMPLES / "im-session.json", "--catalog", tmp_path)
    assert "broken.toml:$.colour" in err


# ---------------------------------------------------------------------------
# kapproto list protocols
# ---------------------------------------------------------------------------


def test_list_protocols(capsys: pytest.CaptureFixture[str]) -> None:
    """`kapproto list protocols` lists every built-in protocol with its version."""
    code, out, _ = run(capsys, "list", "protocols")
    assert 0 == code
    rows = [line.split()[:2] for line in out.splitlines()[2:] if line.strip()]
    for pid in (
        "esketamine-mdsi",
        "esketamine-trd",
        "im-kap",
        "iv-racemic-standard",
        "sc-racemic",
        "sl-kap",
    ):
        assert [pid, "1"] in rows
