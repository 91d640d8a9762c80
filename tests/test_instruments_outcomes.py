"""Tests of kapproto.instruments outcomes: change, response and remission."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapproto.exceptions import ValidationError
from kapproto.instruments import change, get_instrument, is_remission, is_response, score
from kapproto.testing import instrument_answers

RESPONSE_SCALES = ["phq9", "madrs", "qids_sr16"]
REMISSION = {"phq9": lambda t: t < 5, "qids_sr16": lambda t: t <= 5, "madrs": lambda t: t <= 12}


def totals(instrument_id: str) -> st.SearchStrategy[int]:
    inst = get_instrument(instrument_id)
    return st.integers(inst.total_min, inst.total_max)  # type: ignore[arg-type]


@pytest.mark.parametrize("instrument_id", RESPONSE_SCALES)
@given(data=st.data())
def test_response_is_a_fall_of_at_least_half(instrument_id: str, data: st.DataObject) -> None:
    """is_response agrees with 'fall of at least 50 % from a non-zero baseline' for generated pairs."""
    baseline, followup = data.draw(totals(instrument_id)), data.draw(totals(instrument_id))
    expected = baseline > 0 and Fraction(baseline - followup, baseline) >= Fraction(1, 2)
    assert expected == is_response(instrument_id, baseline, followup)


@pytest.mark.parametrize("instrument_id", sorted(REMISSION))
@given(data=st.data())
def test_remission_definition(instrument_id: str, data: st.DataObject) -> None:
    """is_remission agrees with the sourced definition for every total."""
    total = data.draw(totals(instrument_id))
    assert REMISSION[instrument_id](total) == is_remission(instrument_id, total)


@given(instrument_answers("phq9"), instrument_answers("phq9"))
def test_scores_and_totals_agree(before: object, after: object) -> None:
    """Outcomes from Scores equal outcomes from their totals."""
    b, a = score("phq9", before), score("phq9", after)
    assert b.total is not None
    assert a.total is not None
    assert is_response("phq9", b, a) == is_response("phq9", b.total, a.total)
    assert is_remission("phq9", a) == is_remission("phq9", a.total)
    assert change("phq9", b, a) == change("phq9", b.total, a.total)


@given(data=st.data())
def test_change_absolute_and_percent(data: st.DataObject) -> None:
    """change() gives followup - baseline and its percent of the baseline."""
    baseline, followup = data.draw(totals("madrs")), data.draw(totals("madrs"))
    result = change("madrs", baseline, followup)
    assert followup - baseline == result.absolute
    if baseline == 0:
        assert result.percent is None
    else:
        assert result.percent == pytest.approx(100 * (followup - baseline) / baseline)


def test_response_boundary_exact() -> None:
    """A fall of exactly half is a response; one point less is not; a zero baseline never is."""
    assert (True, False) == (is_response("madrs", 31, 15), is_response("madrs", 31, 16))
    assert (True, False) == (is_response("phq9", 20, 10), is_response("phq9", 20, 11))
    assert is_response("phq9", 0, 0) is False


def test_remission_boundaries() -> None:
    """PHQ-9 remits below 5, QIDS-SR16 at 5 or less, MADRS at 12 or less (10 on request)."""
    assert (True, False) == (is_remission("phq9", 4), is_remission("phq9", 5))
    assert (True, False) == (is_remission("qids_sr16", 5), is_remission("qids_sr16", 6))
    assert (True, False) == (is_remission("madrs", 12), is_remission("madrs", 13))
    assert (True, False) == (
        is_remission("madrs", 10, threshold=10),
        is_remission("madrs", 11, threshold=10),
    )


@pytest.mark.parametrize("instrument_id", ["gad7", "pcl5", "bdi2", "cadss", "cssrs_screener"])
def test_no_response_definition_is_an_error(instrument_id: str) -> None:
    """Scales without a sourced response definition refuse is_response rather than guess."""
    with pytest.raises(ValidationError) as info:
        is_response(instrument_id, 10, 2)
    assert "$.instrument" == info.value.problems[0].path
    assert "no sourced response definition" in info.value.problems[0].message


@pytest.mark.parametrize("instrument_id", ["gad7", "pcl5", "bdi2", "cadss"])
def test_no_remission_definition_is_an_error(instrument_id: str) -> None:
    """Scales without a sourced remission definition refuse is_remission."""
    with pytest.raises(ValidationError, match="no sourced remission definition"):
        is_remission(instrument_id, 2)


@pytest.mark.parametrize("bad", [28, -1, True, "10", 10.0, None])
def test_bad_totals(bad: object) -> None:
    """Out-of-range totals, booleans, strings and floats are refused with their path."""
    with pytest.raises(ValidationError) as info:
        is_response("phq9", bad, 5)  # type: ignore[arg-type]
    assert "$.baseline" == info.value.problems[0].path


def test_score_of_another_instrument() -> None:
    """A GAD-7 score given for PHQ-9 is refused."""
    with pytest.raises(ValidationError, match="a gad7 score given for phq9"):
        change("phq9", score("gad7", [0] * 7), 3)


def test_cssrs_has_no_change() -> None:
    """The C-SSRS screener has no numeric total, so change() refuses it."""
    with pytest.raises(ValidationError, match="no numeric total"):
        change("cssrs_screener", 0, 0)
