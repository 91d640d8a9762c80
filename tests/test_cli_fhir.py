"""Tests for ``kapproto fhir``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kapproto.cli import main

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
    """A document that is not a session exits 2 with $.schema on stderr."""
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"schema": "kapproto.course/1"}), encoding="utf-8")
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
