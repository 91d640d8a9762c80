"""Tests of ``kapproto list``: the findings catalogue as text and JSON, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kapproto._findings import finding_catalogue
from kapproto.cli import main


def test_list_findings_text(capsys: pytest.CaptureFixture[str]) -> None:
    """The text table has a header, a rule, and one aligned row per catalogued code."""
    assert 0 == main(["list", "findings"])
    out, err = capsys.readouterr()
    assert "" == err
    header, rule, *rows = out.rstrip("\n").split("\n")
    assert ["code", "severity", "description", "source"] == header.split()
    assert set(rule) == {"-", " "}
    severity, description = header.index("severity"), header.index("description")
    source = header.index("source")
    assert len(finding_catalogue()) == len(rows)
    for row, spec in zip(rows, finding_catalogue().values(), strict=True):
        assert row.startswith(spec.code + " ")
        assert row[severity:].startswith(spec.severity.value + " ")
        assert row[description:].startswith(spec.description)
        assert row[source:] == spec.source


def test_list_findings_json(capsys: pytest.CaptureFixture[str]) -> None:
    """--format json prints the catalogue as a JSON array of {code, severity, description, source}."""
    assert 0 == main(["list", "findings", "--format", "json"])
    out, _ = capsys.readouterr()
    assert [
        {
            "code": s.code,
            "severity": s.severity.value,
            "description": s.description,
            "source": s.source,
        }
        for s in finding_catalogue().values()
    ] == json.loads(out)


@pytest.mark.parametrize("what", ["protocols", "rulesets", "templates", "instruments", "findings"])
def test_list_json_keys_are_snake_case(what: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Every JSON key is a snake_case identifier, whatever the text header says."""
    assert 0 == main(["list", what, "--format", "json"])
    entries = json.loads(capsys.readouterr().out)
    assert entries
    for entry in entries:
        assert all(k.isidentifier() and k == k.lower() for k in entry), entry


def test_list_protocols_json_marks_reference_only(capsys: pytest.CaptureFixture[str]) -> None:
    """Every built-in protocol is listed as reference-only under the key reference_only."""
    assert 0 == main(["list", "protocols", "--format", "json"])
    entries = json.loads(capsys.readouterr().out)
    assert {"esketamine-trd", "im-kap"} <= {e["id"] for e in entries}
    assert {e["reference_only"] for e in entries} == {"yes"}


def test_list_unknown_kind(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown list kind exits 2 with the path and the known kinds on stderr, no traceback."""
    assert 2 == main(["list", "findngs"])
    out, err = capsys.readouterr()
    assert "" == out
    assert err.startswith("kapproto: invalid input (ValidationError)\n")
    assert "  $.what: cannot list 'findngs'; expected one of " in err
    assert "findings" in err.split("expected one of ")[1]
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["list"], ["list", "findings", "--format", "xml"]])
def test_list_bad_arguments(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Missing or malformed arguments are a usage error with exit status 2."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert 2 == info.value.code
    assert "usage: kapproto list" in capsys.readouterr().err


def test_command_line_unknown_kind() -> None:
    """The real command, run as a module, exits 2 on an unknown kind without a traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "kapproto", "list", "nonsense"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (2, "") == (done.returncode, done.stdout)
    assert "$.what: cannot list 'nonsense'" in done.stderr
    assert "Traceback" not in done.stderr
