"""Tests of the ``kapproto screen`` command and ``kapproto list rulesets``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kapproto.cli import main
from kapproto.cli._common import DISCLAIMER

# A healthy candidate who answered every question (also used by the docs).
EXAMPLE = Path(__file__).parent.parent / "examples" / "screening" / "healthy-candidate.json"
HEALTHY: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))

CLINIC_RULES = """
id = "clinic-x"
version = "2"
title = "Clinic X"
source = "Clinic X SOP"

[[rules]]
id = "too-young"
title = "Under 21 at this clinic"
severity = "absolute"
source = "Clinic X SOP 4.1"
when = { fact = "age", lt = 21 }
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, data: object, name: str = "facts.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def test_eligible_exits_0_with_disclaimer(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A healthy, fully answered candidate exits 0; the text names the decision and carries the disclaimer."""
    code, out, _ = run(capsys, "screen", write(tmp_path, HEALTHY))
    assert (0, True, True) == (code, out.startswith("decision: ELIGIBLE"), DISCLAIMER in out)


@pytest.mark.parametrize(
    ("change", "decision"),
    [
        ({"allergies": {"ketamine": True}}, "ineligible"),
        ({"vitals": {"systolic": "150 mmHg", "diastolic": "82 mmHg"}}, "review"),
        ({"scores": {}}, "incomplete"),
    ],
)
def test_other_decisions_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, change: dict[str, Any], decision: str
) -> None:
    """Ineligible, review and incomplete all exit 1; the JSON report says which."""
    code, out, _ = run(capsys, "screen", write(tmp_path, {**HEALTHY, **change}), "--format", "json")
    assert (1, decision) == (code, json.loads(out)["decision"])


def test_text_shows_values_and_missing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Text output lists matched rules with their values (ISMP units) and unknown facts."""
    facts = {**HEALTHY, "vitals": {"systolic": "150 mmHg"}}
    code, out, _ = run(capsys, "screen", write(tmp_path, facts))
    assert (1, True, True, True) == (
        code,
        "bp-elevated" in out,
        "vitals.systolic = 150 mmHg" in out,
        "unknown: vitals.diastolic" not in out,
    )


def test_json_report_round_trips(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--format json prints the canonical report document, with the given time."""
    from kapproto import from_json
    from kapproto.screening import ScreeningReport

    _, out, _ = run(
        capsys,
        "screen",
        write(tmp_path, HEALTHY),
        "--format",
        "json",
        "--time",
        "2026-03-01T09:00:00-07:00",
    )
    report = from_json(out, ScreeningReport)
    assert ("2026-03-01T09:00:00-07:00", "ketamine-contraindications@1") == (
        report.time.isoformat(),
        str(report.ruleset),
    )  # type: ignore[union-attr]


def test_rules_from_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--rules PATH loads a clinic's own rule set."""
    rules = write(tmp_path, CLINIC_RULES, "clinic.toml")
    code, out, _ = run(
        capsys, "screen", write(tmp_path, {"age": 19}), "--rules", rules, "--format", "json"
    )
    data = json.loads(out)
    assert (1, "ineligible", {"id": "clinic-x", "version": "2"}) == (
        code,
        data["decision"],
        data["ruleset"],
    )


def test_rules_by_id_and_version(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--rules ID@VERSION picks a built-in rule set by version."""
    code, _, _ = run(
        capsys, "screen", write(tmp_path, HEALTHY), "--rules", "ketamine-contraindications@1"
    )
    assert 0 == code


@pytest.mark.parametrize(
    ("facts", "extra", "path"),
    [
        ({"vitals": {"systolic": 150}}, [], "$.vitals.systolic"),
        ("{not json", [], "$"),
        ([1, 2], [], "$"),
        (HEALTHY, ["--rules", "nope"], "$"),
        (HEALTHY, ["--time", "2026-03-01T09:00"], "$.time"),
    ],
)
def test_bad_input_exits_2_with_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, facts: object, extra: list[str], path: str
) -> None:
    """Invalid facts, unreadable JSON, an unknown rule set or a naive time exit 2, path on stderr."""
    code, out, err = run(capsys, "screen", write(tmp_path, facts), *extra)
    assert (2, "", True) == (code, out, f"  {path}: " in err)


def test_bad_rule_file_exits_2_with_rule_and_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A rule-set file with an error exits 2 and names the rule and path."""
    rules = write(tmp_path, CLINIC_RULES.replace("lt = 21", 'lt = "21 kg"'), "clinic.toml")
    code, _, err = run(capsys, "screen", write(tmp_path, HEALTHY), "--rules", rules)
    assert (2, True) == (code, "$.rules[0].when.lt: rule 'too-young'" in err)


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A facts file that does not exist exits 2."""
    code, _, err = run(capsys, "screen", str(tmp_path / "none.json"))
    assert (2, True) == (code, "none.json" in err)


def test_list_rulesets(capsys: pytest.CaptureFixture[str]) -> None:
    """The list rulesets command shows the built-in rule set with its version and rule count."""
    code, out, _ = run(capsys, "list", "rulesets", "--format", "json")
    [row] = json.loads(out)
    assert (0, "ketamine-contraindications", "1", "16") == (
        code,
        row["id"],
        row["version"],
        row["rules"],
    )
