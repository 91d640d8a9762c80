"""Tests of kapproto.instruments: catalogue, responses and the public namespace."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

import kapproto
from kapproto import instruments
from kapproto.exceptions import UnknownReferenceError, ValidationError
from kapproto.instruments import (
    INSTRUMENTS,
    InstrumentResponse,
    get_instrument,
    score,
)
from kapproto.serialization import from_dict, from_json, to_dict, to_json

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 2, 9, 2, tzinfo=dt.timezone(dt.timedelta(hours=-7)))


def test_all_matches_bound_names() -> None:
    """Every name in kapproto.instruments.__all__ is bound, and the top level re-exports the main ones."""
    assert [] == [n for n in instruments.__all__ if not hasattr(instruments, n)]
    for name in (
        "get_instrument",
        "score",
        "Score",
        "Instrument",
        "InstrumentResponse",
        "is_response",
        "is_remission",
        "change",
    ):
        assert getattr(instruments, name) is getattr(kapproto, name)


def test_unknown_instrument_lists_known_ids() -> None:
    """An unknown id raises UnknownReferenceError naming every known id."""
    with pytest.raises(UnknownReferenceError) as info:
        get_instrument("phq")
    message = str(info.value)
    assert all(i in message for i in INSTRUMENTS)
    assert "'phq'" in message


def test_score_unknown_instrument() -> None:
    """score() with an unknown id raises UnknownReferenceError, a LookupError."""
    with pytest.raises(LookupError):
        score("hamd17", [0] * 17)


def test_instruments_mapping_is_the_catalogue() -> None:
    """INSTRUMENTS maps each built-in id to the instrument get_instrument returns."""
    expected = ["phq9", "gad7", "pcl5", "cssrs_screener", "madrs", "qids_sr16", "bdi2", "cadss"]
    assert expected == list(INSTRUMENTS)
    assert all(INSTRUMENTS[i] is get_instrument(i) for i in INSTRUMENTS)


def test_response_json_shape_round_trip() -> None:
    """A response reads and writes the DESIGN.md JSON shape."""
    doc = {
        "instrument": "phq9",
        "time": "2026-03-02T09:02:00-07:00",
        "answers": [2, 2, 1, 2, 1, 1, 2, 1, 0],
    }
    response = from_dict(doc, InstrumentResponse)
    assert InstrumentResponse("phq9", T0, [2, 2, 1, 2, 1, 1, 2, 1, 0]) == response
    assert doc == to_dict(response)
    assert response == from_json(to_json(response), InstrumentResponse)


def test_response_keyed_answers_round_trip() -> None:
    """Answers keyed by item id keep that shape through JSON."""
    response = InstrumentResponse("phq9", T0, {f"item{i}": 1 for i in range(1, 10)})
    assert {f"item{i}": 1 for i in range(1, 10)} == to_dict(response)["answers"]
    assert response == from_json(to_json(response), InstrumentResponse)


def test_response_bad_answer_has_path() -> None:
    """A bad answer in a response is a ValidationError at $.answers[3]."""
    with pytest.raises(ValidationError) as info:
        InstrumentResponse("phq9", T0, [2, 2, 1, 7, 1, 1, 2, 1, 0])
    assert "$.answers[3]" == info.value.problems[0].path
    assert "7" in info.value.problems[0].message


def test_response_from_json_reports_every_problem() -> None:
    """A naive time and a bad answer are both reported, with their paths."""
    doc = {
        "instrument": "phq9",
        "time": "2026-03-02T09:02:00",
        "answers": [2, 2, 1, 2, "x", 1, 2, 1, 0],
    }
    with pytest.raises(ValidationError) as info:
        from_dict(doc, InstrumentResponse)
    assert {"$.time", "$.answers[4]"} == {p.path for p in info.value.problems}


def test_response_unknown_key_and_instrument() -> None:
    """Unknown keys and unknown instrument ids are refused with their paths."""
    with pytest.raises(ValidationError) as info:
        from_dict(
            {"instrument": "phq9", "time": "2026-03-02T09:02:00Z", "answers": [0] * 9, "notes": ""},
            InstrumentResponse,
        )
    assert "$.notes" == info.value.problems[0].path
    with pytest.raises(ValidationError) as info2:
        from_dict(
            {"instrument": "nope", "time": "2026-03-02T09:02:00Z", "answers": []},
            InstrumentResponse,
        )
    assert "$.instrument" == info2.value.problems[0].path


def test_response_naive_time_refused() -> None:
    """A naive datetime is refused at $.time."""
    with pytest.raises(ValidationError) as info:
        InstrumentResponse("phq9", dt.datetime(2026, 3, 2, 9), [0] * 9)
    assert "$.time" == info.value.problems[0].path


def test_response_score_method() -> None:
    """InstrumentResponse.score() scores the stored answers."""
    assert 12 == InstrumentResponse("phq9", T0, [2, 2, 1, 2, 1, 1, 2, 1, 0]).score().total


def test_response_is_immutable_and_hashable() -> None:
    """Answers given as a list are stored as a tuple, so the response hashes."""
    answers = [0] * 9
    response = InstrumentResponse("phq9", T0, answers)
    answers[0] = 3
    assert (0,) * 9 == response.answers
    assert isinstance(hash(response), int)


@given(
    st.one_of(
        st.none(),
        st.integers(),
        st.text(max_size=5),
        st.booleans(),
        st.lists(st.one_of(st.integers(), st.text(max_size=3), st.none()), max_size=12),
        st.dictionaries(st.text(max_size=6), st.integers(), max_size=4),
    )
)
def test_response_bad_input_raises_only_kapproto_errors(answers: object) -> None:
    """Whatever the answers, building from JSON either succeeds or raises ValidationError."""
    try:
        from_dict(
            {"instrument": "phq9", "time": "2026-03-02T09:02:00Z", "answers": answers},
            InstrumentResponse,
        )
    except ValidationError as exc:
        problems = exc.problems
    else:
        problems = (("", ""),)
    assert problems


def test_scores_and_responses_pickle_and_hash() -> None:
    """Scores, responses and instruments survive pickling and hash (for process pools and sets)."""
    import pickle

    result = score("pcl5", [2] * 20)
    response = InstrumentResponse("cssrs_screener", T0, {"q1": True, "q2": False, "q6": False})
    for value in (result, response, get_instrument("bdi2")):
        assert value == pickle.loads(pickle.dumps(value))
        assert hash(value) == hash(pickle.loads(pickle.dumps(value)))
    assert result.subscales == {"b": 10, "c": 4, "d": 14, "e": 12}


def test_public_type_hints_resolve() -> None:
    """typing.get_type_hints resolves for every public class of kapproto.instruments."""
    import typing

    classes = [getattr(instruments, n) for n in instruments.__all__]
    for cls in [c for c in classes if isinstance(c, type)]:
        assert isinstance(typing.get_type_hints(cls), dict)
