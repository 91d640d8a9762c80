"""Tests of kapproto._codes: codings and the code-system URIs."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapproto._codes import LOINC, RXNORM, SNOMED, UCUM, Coding
from kapproto.exceptions import ValidationError
from kapproto.serialization import from_dict, from_json, to_dict, to_json


def test_system_uris() -> None:
    """The code-system URIs are the canonical FHIR ones."""
    assert (
        "http://snomed.info/sct",
        "http://loinc.org",
        "http://www.nlm.nih.gov/research/umls/rxnorm",
        "http://unitsofmeasure.org",
    ) == (SNOMED, LOINC, RXNORM, UCUM)


def test_to_fhir() -> None:
    """A coding renders as a FHIR Coding element."""
    assert {
        "system": "http://snomed.info/sct",
        "code": "78421000",
        "display": "Intramuscular route",
    } == Coding(SNOMED, "78421000", "Intramuscular route").to_fhir()


def test_coding_is_a_frozen_value() -> None:
    """Codings compare and hash by value and cannot be changed."""
    a = Coding(LOINC, "8480-6", "Systolic blood pressure")
    assert a == Coding(LOINC, "8480-6", "Systolic blood pressure")
    assert {a} == {Coding(LOINC, "8480-6", "Systolic blood pressure")}
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        a.code = "8462-4"  # type: ignore[misc]


@given(st.builds(Coding, st.sampled_from([SNOMED, LOINC, RXNORM, UCUM]), st.text(), st.text()))
def test_json_round_trip(coding: Coding) -> None:
    """A coding goes to JSON and back unchanged; to_dict equals to_fhir."""
    assert coding == from_json(to_json(coding), Coding)
    assert coding.to_fhir() == to_dict(coding)


def test_json_refuses_bad_coding() -> None:
    """A coding with a number for its code and an unknown key is refused at both paths."""
    with pytest.raises(ValidationError) as info:
        from_dict({"system": SNOMED, "code": 78421000, "display": "IM", "version": "x"}, Coding)
    assert ["$.code", "$.version"] == sorted(p for p, _ in info.value.problems)
