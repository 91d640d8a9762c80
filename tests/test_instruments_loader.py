"""Tests of kapproto.instruments data files: the built-in definitions and load_instrument()."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapproto.exceptions import ValidationError
from kapproto.instruments import INSTRUMENTS, load_instrument, score
from kapproto.instruments._loader import instrument_from_dict
from kapproto.testing import instrument_answers, json_values

CLINIC_FILE = Path(__file__).resolve().parents[1] / "docs" / "howto" / "clinic-wellbeing.toml"
CLINIC = CLINIC_FILE.read_text(encoding="utf-8")


def raw(instrument_id: str) -> dict[str, Any]:
    path = resources.files("kapproto").joinpath("data", "instruments", f"{instrument_id}.toml")
    return tomllib.loads(path.read_text(encoding="utf-8"))


def clinic() -> dict[str, Any]:
    return tomllib.loads(CLINIC)


@pytest.mark.parametrize("instrument_id", list(INSTRUMENTS))
def test_every_number_has_source_and_confidence(instrument_id: str) -> None:
    """Each built-in file cites a source, and every band, flag and threshold has a source and confidence."""
    data = raw(instrument_id)
    assert data["source"]
    sourced = [*data.get("bands", []), *data.get("flags", [])]
    sourced += [
        data[k]
        for k in (
            "answers",
            "total",
            "positive",
            "response",
            "remission",
            "loinc_panel",
            "loinc_total",
        )
        if k in data
    ]
    for entry in sourced:
        assert entry["source"], entry
        assert entry["confidence"] in ("C", "S", "design"), entry


@pytest.mark.parametrize("instrument_id", list(INSTRUMENTS))
def test_no_unconfirmed_loinc_or_labels(instrument_id: str) -> None:
    """Items carry short labels only, and LOINC codes only where CLINICAL.md gives them."""
    inst = INSTRUMENTS[instrument_id]
    assert all(len(i.label) <= 60 for i in inst.items)
    has_loinc = inst.loinc_panel is not None or inst.loinc_total is not None
    assert has_loinc == (instrument_id in ("phq9", "gad7", "cssrs_screener"))


def test_no_cssrs_low_or_moderate_labels() -> None:
    """The C-SSRS screener defines no low or moderate triage level (unconfirmed in CLINICAL.md)."""
    inst = INSTRUMENTS["cssrs_screener"]
    assert ((), ["high_risk"]) == (inst.bands, [f.id for f in inst.flags])


def test_load_clinic_scale(tmp_path: Path) -> None:
    """A clinic's own scale loads from a TOML file and scores like a built-in one."""
    path = tmp_path / "clinic.toml"
    path.write_text(CLINIC, encoding="utf-8")
    inst = load_instrument(path)
    result = score(inst, {"sleep": 2, "mood": 2, "energy": 2, "safety": 3})
    assert (9, "high", frozenset({"unsafe"}), False) == (
        result.total,
        result.band,
        result.flags,
        result.prorated,
    )


@given(instrument_answers(instrument_from_dict(tomllib.loads(CLINIC)), keyed=True))
def test_clinic_scale_totals_in_range(answers: dict[str, int]) -> None:
    """Generated answers for a loaded scale score within its range."""
    result = score(instrument_from_dict(clinic()), answers)
    assert 0 <= result.total <= 16  # type: ignore[operator]


def test_prorating_where_the_rule_allows() -> None:
    """One missing item is prorated (mean x items, rounded half up); two are refused."""
    inst = instrument_from_dict(clinic())
    result = score(inst, {"sleep": 1, "mood": 2, "safety": 2})
    assert (7, True, "low") == (result.total, result.prorated, result.band)  # 5/3*4 = 6.67
    assert "energy" not in result.items
    with pytest.raises(ValidationError, match="prorating allows at most 1 missing"):
        score(inst, {"sleep": 1, "safety": 0})


def test_prorating_never_covers_a_flag_item() -> None:
    """An item that decides a flag cannot be prorated: missing data never passes."""
    with pytest.raises(ValidationError, match="safety decide a flag"):
        score(instrument_from_dict(clinic()), {"sleep": 1, "mood": 2, "energy": 2})


def test_builtins_never_prorate() -> None:
    """No built-in scale has a prorating rule (CLINICAL.md gives none)."""
    assert [] == [i for i in INSTRUMENTS if INSTRUMENTS[i].prorate is not None]


def _problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        instrument_from_dict(data)
    return dict(info.value.problems)


def test_bands_with_a_gap_are_refused() -> None:
    """Bands that do not partition the total range are refused at the offending band."""
    data = clinic()
    data["bands"][1]["min"] = 9
    assert "must start at 8" in _problems(data)["$.bands[1]"]


def test_bands_short_of_the_maximum_are_refused() -> None:
    """A last band ending before the maximum total is refused."""
    data = clinic()
    data["bands"][1]["max"] = 15
    assert "not at the maximum total 16" in _problems(data)["$.bands"]


def test_total_range_must_match_items() -> None:
    """A stated total range that the items cannot produce is refused."""
    data = clinic()
    data["total"]["max"] = 20
    data["bands"][1]["max"] = 20
    assert "must be 0..16" in _problems(data)["$.total"]


def test_bad_definition_reports_every_problem() -> None:
    """Unknown keys, unknown rules, unknown items and a bad confidence are all reported at once."""
    data = clinic()
    data["colour"] = "blue"
    data["items"][1]["id"] = "sleep"
    data["flags"][0]["items"] = ["nope"]
    data["bands"][0]["confidence"] = "high"
    data["scoring"] = "median"
    found = _problems(data)
    assert {
        "$.colour",
        "$.items[1].id",
        "$.flags[0].items",
        "$.bands[0].confidence",
        "$.scoring",
    } <= set(found)


def test_unknown_flag_rule() -> None:
    """A flag naming a rule kapproto does not have is refused, listing the known rules."""
    data = clinic()
    data["flags"][0]["rule"] = "eval"
    assert "item_at_least" in _problems(data)["$.flags[0].rule"]


def test_invalid_toml(tmp_path: Path) -> None:
    """A file that is not TOML is a ValidationError naming the file."""
    path = tmp_path / "bad.toml"
    path.write_text("id = ", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"bad\.toml is not valid TOML"):
        load_instrument(path)


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every path to a value inside nested dicts and lists."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for n, value in enumerate(node):
            found += _paths(value, (*prefix, n))
    return found


@given(st.data(), json_values(max_leaves=6))
def test_any_corrupted_definition_raises_only_validation_error(
    data: st.DataObject, junk: object
) -> None:
    """Replacing any part of a valid definition with junk gives an instrument or a ValidationError."""
    definition = data.draw(st.sampled_from(["clinic", *INSTRUMENTS]))
    definition = clinic() if definition == "clinic" else raw(definition)
    path = data.draw(st.sampled_from(_paths(definition)))
    node: Any = definition
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = junk
    try:
        instrument_from_dict(definition)
    except ValidationError as exc:
        problems = exc.problems
    else:
        problems = (("$", "built"),)
    assert problems
