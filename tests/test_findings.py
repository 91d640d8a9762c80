"""Tests of kapproto._findings: the finding catalogue of DESIGN.md and finding()."""

from __future__ import annotations

import re

import pytest

from kapproto._data import load_data
from kapproto._findings import Finding, FindingSpec, Severity, finding, finding_catalogue
from kapproto.exceptions import UnknownReferenceError
from kapproto.serialization import from_json, to_dict, to_json

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

# The table of DESIGN.md, "Findings and check outcomes": code -> (severity, owner).
DESIGN_TABLE: dict[str, tuple[Severity, str]] = {
    "dose.above_max": (E, "dosing"),
    "dose.below_min": (E, "dosing"),
    "dose.cumulative_above_max": (E, "dosing"),
    "dose.above_first_session_max": (E, "dosing"),
    "dose.route_not_allowed": (E, "dosing"),
    "dose.formulation_route_mismatch": (E, "dosing"),
    "dose.device_multiple": (E, "dosing"),
    "dose.device_spacing": (W, "dosing"),
    "dose.rate_above_max": (E, "dosing"),
    "dose.duplicate_administration": (W, "dosing"),
    "dose.withheld": (INFO, "sessions"),
    "monitoring.predose_vitals_missing": (E, "protocols"),
    "monitoring.bp_elevated_predose": (W, "protocols"),
    "monitoring.recheck_missing": (E, "protocols"),
    "monitoring.spo2_missing": (E, "protocols"),
    "monitoring.observation_too_short": (E, "protocols"),
    "monitoring.bp_not_settled_at_discharge": (W, "protocols"),
    "schedule.interval_too_short": (E, "protocols"),
    "screening.not_done": (E, "protocols"),
    "screening.ineligible": (E, "protocols"),
    "screening.review": (W, "protocols"),
    "assessment.suicidal_ideation": (W, "protocols"),
    "integration.missing": (E, "integration"),
    "integration.late": (W, "integration"),
    "assessment.missing": (W, "integration"),
}


@pytest.mark.parametrize(("code", "expected"), DESIGN_TABLE.items())
def test_design_code_in_catalogue(code: str, expected: tuple[Severity, str]) -> None:
    """Every code of the DESIGN.md table is catalogued with the table's severity and owner."""
    spec = finding_catalogue()[code]
    assert expected == (spec.severity, spec.owner)


def test_every_entry_documented() -> None:
    """Every catalogue entry has a dotted code, a description and a source."""
    for code, spec in finding_catalogue().items():
        assert code == spec.code
        assert re.fullmatch(r"[a-z]+\.[a-z0-9_]+", code), code
        assert spec.description.strip(), code
        assert spec.source.strip(), code
        assert spec.owner.strip(), code


def test_codes_are_unique_in_the_data_file() -> None:
    """No code appears twice in data/findings.toml (a later entry would silently win)."""
    codes = [entry["code"] for entry in load_data("findings.toml")["findings"]]
    assert sorted(set(codes)) == sorted(codes)
    assert len(codes) == len(finding_catalogue())


def test_catalogue_is_loaded_once_and_read_only() -> None:
    """The catalogue is one cached mapping that callers cannot change."""
    catalogue = finding_catalogue()
    assert catalogue is finding_catalogue()
    with pytest.raises(TypeError):
        catalogue["dose.made_up"] = catalogue["dose.above_max"]  # type: ignore[index]
    assert "dose.made_up" not in finding_catalogue()


def test_finding_takes_catalogue_defaults() -> None:
    """finding() gives the catalogue's severity and source unless told otherwise."""
    spec = finding_catalogue()["dose.device_spacing"]
    assert Finding(
        "dose.device_spacing", Severity.WARNING, "4 min apart", "$.administrations[1]", spec.source
    ) == finding("dose.device_spacing", "4 min apart", path="$.administrations[1]")
    assert Finding("dose.withheld", Severity.INFO, "withheld", "$", spec.source).path == "$"


def test_finding_overrides() -> None:
    """A check may give its own source and severity."""
    found = finding(
        "monitoring.bp_elevated_predose",
        "152/94 mmHg before dosing",
        path="$.vitals[0]",
        source="bp_threshold (Clinic SOP)",
        severity=Severity.ERROR,
    )
    assert (Severity.ERROR, "bp_threshold (Clinic SOP)", False) == (
        found.severity,
        found.source,
        found.acknowledged,
    )


def test_unknown_code() -> None:
    """An uncatalogued code is an UnknownReferenceError naming it and the known codes."""
    with pytest.raises(UnknownReferenceError) as info:
        finding("dose.too_much", "x")
    [(path, message)] = info.value.problems
    assert "$" == path
    assert message.startswith("unknown finding code 'dose.too_much'; known: ")
    assert "dose.above_max" in message
    assert isinstance(info.value, LookupError)


def test_finding_json_round_trip() -> None:
    """A finding serializes with its severity as a snake-case string and reads back equal."""
    found = finding("dose.above_max", "60 mg above 56 mg", path="$.administrations[0]")
    data = to_dict(found)
    assert {
        "code": "dose.above_max",
        "severity": "error",
        "message": "60 mg above 56 mg",
        "path": "$.administrations[0]",
        "source": finding_catalogue()["dose.above_max"].source,
        "acknowledged": False,
    } == data
    assert found == from_json(to_json(found), Finding)


def test_severity_values() -> None:
    """Severity values are the lower-case member names."""
    assert ["error", "warning", "info"] == [s.value for s in Severity]
    assert [s.name.lower() for s in Severity] == [s.value for s in Severity]


def test_spec_is_frozen() -> None:
    """Catalogue entries are immutable values."""
    spec = finding_catalogue()["dose.above_max"]
    assert isinstance(spec, FindingSpec)
    with pytest.raises(AttributeError):
        spec.severity = Severity.INFO  # type: ignore[misc]
