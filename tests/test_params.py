"""Tests of kapproto._params: protocol parameters, bare or with source and confidence."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapproto._params import Confidence, Parameter, parse_parameter, provenance
from kapproto.exceptions import KapprotoError, ProtocolError
from kapproto.testing import json_values
from kapproto.units import MASS, quantity

PATH = "$.doses[0].session_max"


def mass(value: object, path: str) -> Any:
    """The value parser used here: a MASS, errors at ``path``."""
    return MASS.check(value, path=path)


def _problems(raw: object, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ProtocolError) as info:
        parse_parameter(raw, mass, path=PATH, **kwargs)
    return dict(info.value.problems)


def test_bare_value() -> None:
    """A bare value is a parameter without source or confidence."""
    assert (Parameter(quantity("84 mg")), {}) == parse_parameter("84 mg", mass, path=PATH)


def test_table_value() -> None:
    """A table gives value, source and confidence."""
    raw = {"value": "84 mg", "source": "Spravato PI §2", "confidence": "C"}
    assert (Parameter(quantity("84 mg"), "Spravato PI §2", Confidence.C), {}) == parse_parameter(
        raw, mass, path=PATH
    )


@pytest.mark.parametrize(
    ("text", "member"), [("C", Confidence.C), ("S", Confidence.S), ("design", Confidence.DESIGN)]
)
def test_confidence_values(text: str, member: Confidence) -> None:
    """The confidences are C, S and design, as CLINICAL.md tags them."""
    param, _ = parse_parameter({"value": "1 mg", "confidence": text}, mass, path=PATH)
    assert member is param.confidence


def test_table_extra_keys_returned() -> None:
    """Allowed extra keys (an anchor, ...) are returned beside the parameter."""
    raw = {"value": "2 h", "anchor": "last_administration_start", "confidence": "C"}
    param, extras = parse_parameter(
        raw, lambda v, p: v, path="$.monitoring.min_observation", extra_keys=frozenset({"anchor"})
    )
    assert (Parameter("2 h", "", Confidence.C), {"anchor": "last_administration_start"}) == (
        param,
        extras,
    )


def test_table_without_value_and_extra_keys_is_parsed_whole() -> None:
    """With extra keys allowed, a table without 'value' goes to the value parser as a whole."""
    raw = {"at": "40 min", "tolerance": "10 min", "anchor": "last_administration_start"}
    param, extras = parse_parameter(
        raw, lambda v, p: v, path="$.monitoring.recheck", extra_keys=frozenset(raw)
    )
    assert (Parameter(raw), {}) == (param, extras)


def test_unknown_keys() -> None:
    """Unknown keys in a table are errors at their own path, listing what is allowed."""
    assert {
        f"{PATH}.sauce": "unknown key 'sauce'; expected value, source, confidence",
        f"{PATH}.units": "unknown key 'units'; expected value, source, confidence",
    } == _problems({"value": "84 mg", "sauce": "PI", "units": "mg"})


def test_unknown_key_lists_extra_keys() -> None:
    """Where extra keys are allowed, the unknown-key message lists them too."""
    assert {
        f"{PATH}.anchr": "unknown key 'anchr'; expected value, source, confidence, anchor"
    } == _problems({"value": "1 mg", "anchr": "x"}, extra_keys=frozenset({"anchor"}))


@pytest.mark.parametrize("bad", ["c", "confirmed", "DESIGN", 1, None, ["C"], {}])
def test_bad_confidence(bad: object) -> None:
    """A confidence other than C, S, design is an error at its path, naming the value."""
    assert {f"{PATH}.confidence": f"{bad!r} is not one of 'C', 'S', 'design'"} == _problems(
        {"value": "84 mg", "confidence": bad}
    )


def test_table_without_value() -> None:
    """A table with a source but no value is missing its value."""
    assert {f"{PATH}.value": "required key is missing"} == _problems({"source": "PI"})


def test_bad_bare_value_keeps_path() -> None:
    """A bad bare value is a ProtocolError at the parameter's path."""
    assert {PATH: "84 is a bare number; a MASS needs a unit (ug, mg, g)"} == _problems(84)


def test_every_problem_at_once() -> None:
    """Unknown key, bad source, bad confidence and bad value are all reported together."""
    raw = {"value": "84 mg/kg", "sauce": "x", "source": 5, "confidence": "c"}
    assert [
        f"{PATH}.confidence",
        f"{PATH}.sauce",
        f"{PATH}.source",
        f"{PATH}.value",
    ] == sorted(_problems(raw))


def test_provenance() -> None:
    """Provenance: source and confidence read and confidence, defaulting to '' and None."""
    assert ("PI", Confidence.S) == provenance({"source": "PI", "confidence": "S"}, path="$.x")
    assert ("", None) == provenance({}, path="$.x")
    with pytest.raises(ProtocolError) as info:
        provenance({"source": 1, "confidence": "x"}, path="$.x")
    assert ["$.x.source", "$.x.confidence"] == [p for p, _ in info.value.problems]


def test_cite() -> None:
    """A parameter cites its source when it has one."""
    assert "session_max (Spravato PI §2)" == Parameter(1, "Spravato PI §2").cite("session_max")
    assert "session_max" == Parameter(1).cite("session_max")


@given(json_values(max_leaves=8))
def test_any_input_raises_only_protocol_error(raw: object) -> None:
    """Whatever the file holds, parse_parameter gives a parameter or a ProtocolError under its path."""
    try:
        param, _ = parse_parameter(raw, mass, path=PATH)
    except ProtocolError as exc:
        paths = [p for p, _ in exc.problems]
    else:
        paths = []
        assert MASS.unit == param.value.units
    assert all(p.startswith(PATH) for p in paths)


@given(st.sampled_from(["value", "source", "confidence"]), json_values(max_leaves=4))
def test_corrupted_table_raises_only_protocol_error(key: str, junk: object) -> None:
    """A table with one entry replaced by junk gives a parameter or a ProtocolError at that entry."""
    raw = {"value": "84 mg", "source": "PI", "confidence": "C", key: junk}
    try:
        parse_parameter(raw, mass, path=PATH)
    except KapprotoError as exc:
        raised: tuple[type, set[str]] = (type(exc), {p for p, _ in exc.problems})
    else:
        raised = (ProtocolError, {f"{PATH}.{key}"})
    assert (ProtocolError, {f"{PATH}.{key}"}) == raised
