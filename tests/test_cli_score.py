"""Tests of the ``kapproto score`` command and ``kapproto list instruments``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kapproto.cli import main
from kapproto.cli._common import DISCLAIMER


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_score_phq9_text(capsys: pytest.CaptureFixture[str]) -> None:
    """Text output shows total, band, positive screen, the item 9 flag and the disclaimer."""
    code, out, _ = run(capsys, "score", "phq9", "2", "2", "1", "2", "1", "1", "2", "1", "1")
    assert code == 0
    assert "total: 13 of 0-27" in out
    assert "band: Moderate (10-14" in out
    assert "FLAG suicidal_ideation" in out
    assert DISCLAIMER in out


def test_score_json_is_the_score(capsys: pytest.CaptureFixture[str]) -> None:
    """--format json prints the Score as JSON, QIDS-SR16 domains included."""
    answers = [str(a) for a in (3, 0, 0, 0, 1, 2, 2, 2, 2, 1, 1, 1, 1, 1, 3, 3)]
    code, out, _ = run(capsys, "score", "qids_sr16", *answers, "--format", "json")
    data = json.loads(out)
    assert (0, 14, "moderate", 3) == (code, data["total"], data["band"], data["subscales"]["sleep"])


def test_score_keyed_yes_no(capsys: pytest.CaptureFixture[str]) -> None:
    """ITEM=ANSWER arguments with yes/no score the C-SSRS screener with its skip logic."""
    code, out, _ = run(
        capsys,
        "score",
        "cssrs_screener",
        "q1=yes",
        "q2=no",
        "q6=yes",
        "q6_past_3_months=yes",
        "--format",
        "json",
    )
    assert (0, ["high_risk"], None) == (code, json.loads(out)["flags"], json.loads(out)["total"])


def test_score_skipped_items_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    """'-' marks an item the form did not ask when answers are given in order."""
    code, out, _ = run(
        capsys, "score", "cssrs_screener", "no", "no", "-", "-", "-", "no", "-", "--format", "json"
    )
    assert (0, []) == (code, json.loads(out)["flags"])


def test_score_bdi2_options(capsys: pytest.CaptureFixture[str]) -> None:
    """BDI-II items 16 and 18 take option labels; a comma lists several."""
    answers = ["0"] * 21
    answers[15], answers[17] = "2a", "1a,3b"
    code, out, _ = run(capsys, "score", "bdi2", *answers, "--format", "json")
    assert (0, 5) == (code, json.loads(out)["total"])


def test_score_cutpoint(capsys: pytest.CaptureFixture[str]) -> None:
    """--cutpoint overrides the PCL-5 default of 33."""
    answers = ["2"] * 16 + ["0"] * 4
    _, default, _ = run(capsys, "score", "pcl5", *answers, "--format", "json")
    _, lower, _ = run(capsys, "score", "pcl5", *answers, "--cutpoint", "31", "--format", "json")
    assert (False, True) == (json.loads(default)["positive"], json.loads(lower)["positive"])


def test_score_bad_answers_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """Bad answers exit 2 with each problem's path on stderr and no traceback."""
    code, out, err = run(capsys, "score", "phq9", "1", "2", "x", "4")
    assert (2, "") == (code, out)
    assert "$.answers: expected 9 answers" in err
    assert "$.answers[2]" in err
    assert "$.answers[3]: 4 is out of range" in err
    assert "Traceback" not in err


def test_score_unknown_instrument_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown instrument id exits 2 listing the known ids."""
    code, _, err = run(capsys, "score", "hamd", "1")
    assert code == 2
    assert "known instruments are phq9, gad7" in err


def test_score_clinic_file(capsys: pytest.CaptureFixture[str]) -> None:
    """A .toml path scores a clinic's own scale."""
    path = Path(__file__).resolve().parents[1] / "docs" / "howto" / "clinic-wellbeing.toml"
    code, out, _ = run(capsys, "score", str(path), "sleep=1", "mood=2", "energy=3", "safety=0")
    assert code == 0
    assert "total: 6 of 0-16" in out


def test_list_instruments(capsys: pytest.CaptureFixture[str]) -> None:
    """The list command lists every built-in scale with its range and flags."""
    code, out, _ = run(capsys, "list", "instruments", "--format", "json")
    rows = {r["id"]: r for r in json.loads(out)}
    assert code == 0
    assert [
        "phq9",
        "gad7",
        "pcl5",
        "cssrs_screener",
        "madrs",
        "qids_sr16",
        "bdi2",
        "cadss",
    ] == list(rows)
    assert ("0-27", "suicidal_ideation") == (rows["phq9"]["total"], rows["phq9"]["flags"])
    assert "-" == rows["cssrs_screener"]["total"]
