"""Tests of kapproto.instruments scoring: totals, bands, flags, subscales and bad answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapproto.exceptions import KapprotoError, ValidationError
from kapproto.instruments import INSTRUMENTS, AnswerKind, get_instrument, score
from kapproto.testing import instrument_answers

NUMERIC = [i for i in INSTRUMENTS if INSTRUMENTS[i].total_max is not None]
BANDED = [i for i in INSTRUMENTS if INSTRUMENTS[i].bands]

# Band boundaries as CLINICAL.md §4 states them: (band id, min, max).
EXPECTED_BANDS = {
    "phq9": [
        ("none_minimal", 0, 4),
        ("mild", 5, 9),
        ("moderate", 10, 14),
        ("moderately_severe", 15, 19),
        ("severe", 20, 27),
    ],
    "gad7": [("minimal", 0, 4), ("mild", 5, 9), ("moderate", 10, 14), ("severe", 15, 21)],
    "madrs": [("absent", 0, 6), ("mild", 7, 19), ("moderate", 20, 34), ("severe", 35, 60)],
    "qids_sr16": [
        ("none", 0, 5),
        ("mild", 6, 10),
        ("moderate", 11, 15),
        ("severe", 16, 20),
        ("very_severe", 21, 27),
    ],
    "bdi2": [("minimal", 0, 13), ("mild", 14, 19), ("moderate", 20, 28), ("severe", 29, 63)],
}
EXPECTED_RANGES = {
    "phq9": (9, 0, 27),
    "gad7": (7, 0, 21),
    "pcl5": (20, 0, 80),
    "madrs": (10, 0, 60),
    "qids_sr16": (16, 0, 27),
    "bdi2": (21, 0, 63),
    "cadss": (23, 0, 92),
}
QIDS_DOMAINS = [[1, 2, 3, 4], [5], [6, 7, 8, 9], [10], [11], [12], [13], [14], [15, 16]]


def test_band_boundaries_are_where_the_source_puts_them() -> None:
    """Every banded scale has exactly the bands CLINICAL.md §4 lists, and only those scales."""
    actual = {i: [(b.id, b.min, b.max) for b in INSTRUMENTS[i].bands] for i in BANDED}
    assert actual == EXPECTED_BANDS


@pytest.mark.parametrize("instrument_id", BANDED)
def test_bands_partition_the_total_range(instrument_id: str) -> None:
    """Every possible total of a banded scale falls in exactly one band."""
    inst = get_instrument(instrument_id)
    assert inst.total_min is not None
    assert inst.total_max is not None
    for total in range(inst.total_min, inst.total_max + 1):
        containing = [b.id for b in inst.bands if b.min <= total <= b.max]
        assert len(containing) == 1, (total, containing)
        assert inst.band_for(total) is not None


@pytest.mark.parametrize("instrument_id", sorted(EXPECTED_RANGES))
def test_items_and_range(instrument_id: str) -> None:
    """Item count and total range are those CLINICAL.md §4 gives."""
    inst = get_instrument(instrument_id)
    assert (len(inst.items), inst.total_min, inst.total_max) == EXPECTED_RANGES[instrument_id]


@pytest.mark.parametrize("instrument_id", NUMERIC)
@given(data=st.data())
def test_total_within_range_and_band_matches(instrument_id: str, data: st.DataObject) -> None:
    """For every valid answer set the total is within range and the band contains it."""
    inst = get_instrument(instrument_id)
    result = score(inst, data.draw(instrument_answers(instrument_id)))
    assert result.total is not None
    assert inst.total_min <= result.total <= inst.total_max  # type: ignore[operator]
    band = inst.band_for(result.total)
    assert (band.id if band else None) == result.band


@pytest.mark.parametrize("instrument_id", list(INSTRUMENTS))
@given(data=st.data())
def test_list_and_mapping_answers_agree(instrument_id: str, data: st.DataObject) -> None:
    """The same answers in item order and keyed by item id score alike."""
    inst = get_instrument(instrument_id)
    keyed = data.draw(instrument_answers(instrument_id, keyed=True))
    assert score(inst, [keyed.get(i) for i in inst.item_ids]) == score(inst, keyed)


@pytest.mark.parametrize("instrument_id", NUMERIC)
@given(data=st.data())
def test_out_of_range_answer_raises_at_its_path(instrument_id: str, data: st.DataObject) -> None:
    """One integer answer outside the item range is a ValidationError at that answer's path."""
    inst = get_instrument(instrument_id)
    answers = data.draw(instrument_answers(instrument_id, keyed=False))
    slots = [n for n, item in enumerate(inst.items) if item.kind is AnswerKind.INTEGER]
    n = data.draw(st.sampled_from(slots))
    item = inst.items[n]
    answers[n] = data.draw(
        st.one_of(st.integers(max_value=item.min - 1), st.integers(min_value=item.max + 1))
    )
    with pytest.raises(ValidationError) as info:
        score(inst, answers)
    assert [f"$.answers[{n}]"] == [p.path for p in info.value.problems]
    assert "out of range" in info.value.problems[0].message


@pytest.mark.parametrize("instrument_id", list(INSTRUMENTS))
@given(data=st.data())
def test_wrong_count_raises(instrument_id: str, data: st.DataObject) -> None:
    """A list with one answer too many or too few is a ValidationError naming the count."""
    inst = get_instrument(instrument_id)
    answers = data.draw(instrument_answers(instrument_id, keyed=False))
    wrong = answers[:-1] if data.draw(st.booleans()) else [*answers, answers[0]]
    with pytest.raises(ValidationError) as info:
        score(inst, wrong)
    assert f"expected {len(inst.items)} answers" in str(info.value)


@pytest.mark.parametrize("instrument_id", list(INSTRUMENTS))
@given(data=st.data())
def test_wrong_type_answer_raises(instrument_id: str, data: st.DataObject) -> None:
    """A string where a number belongs, a boolean as a number, or a float is refused at its path."""
    inst = get_instrument(instrument_id)
    answers = data.draw(instrument_answers(instrument_id, keyed=False))
    n = data.draw(st.sampled_from([k for k, a in enumerate(answers) if a is not None]))
    kind = inst.items[n].kind
    bad = {
        AnswerKind.INTEGER: st.one_of(st.booleans(), st.text(max_size=3), st.floats()),
        AnswerKind.BOOLEAN: st.one_of(st.integers(), st.text(max_size=3)),
        AnswerKind.OPTIONS: st.one_of(
            st.booleans(),
            st.integers(),
            st.text(max_size=3).filter(lambda s: s not in (inst.items[n].options or {})),
        ),
    }[kind]
    answers[n] = data.draw(bad)
    with pytest.raises(ValidationError) as info:
        score(inst, answers)
    assert f"$.answers[{n}]" in [p.path for p in info.value.problems]


@given(
    st.one_of(
        st.none(),
        st.integers(),
        st.text(),
        st.booleans(),
        st.lists(
            st.one_of(
                st.none(),
                st.integers(),
                st.booleans(),
                st.text(max_size=3),
                st.lists(st.text(max_size=2), max_size=2),
            ),
            max_size=25,
        ),
        st.dictionaries(st.text(max_size=8), st.integers(), max_size=5),
    ),
    st.sampled_from(list(INSTRUMENTS)),
)
def test_arbitrary_answers_raise_only_validation_errors(
    answers: object, instrument_id: str
) -> None:
    """Whatever is passed as answers, score() returns a Score or raises a KapprotoError."""
    try:
        score(instrument_id, answers)
    except KapprotoError as exc:
        error: KapprotoError | None = exc
    else:
        error = None
    assert error is None or isinstance(error, ValidationError)


def test_phq9_ten_answers_and_answer_of_four() -> None:
    """10 answers for PHQ-9 and an answer of 4 are ValidationErrors with their paths."""
    with pytest.raises(ValidationError) as info:
        score("phq9", [1] * 10)
    assert info.value.problems[0].path == "$.answers"
    assert "expected 9 answers" in info.value.problems[0].message
    with pytest.raises(ValidationError) as info:
        score("phq9", [1, 1, 1, 4, 1, 1, 1, 1, 1])
    assert info.value.problems[0].path == "$.answers[3]"
    assert "4 is out of range for item4; expected 0..3" == info.value.problems[0].message


def test_strings_and_booleans_are_not_numbers() -> None:
    """'2' and True are refused where PHQ-9 expects an integer."""
    with pytest.raises(ValidationError) as info:
        score("phq9", {"item1": "2", "item2": True, **{f"item{i}": 0 for i in range(3, 10)}})
    assert ["$.answers.item1", "$.answers.item2"] == [p.path for p in info.value.problems]


def test_missing_answers_named_when_no_prorating_rule() -> None:
    """A missing item on a scale without a prorating rule is a ValidationError naming it."""
    answers = {f"item{i}": 1 for i in range(1, 10) if i not in (3, 7)}
    with pytest.raises(ValidationError) as info:
        score("phq9", answers)
    assert "missing answers for item3, item7" in str(info.value)
    assert "no published prorating rule" in str(info.value)


def test_unknown_item_id() -> None:
    """A key that is not an item id is refused at its path."""
    with pytest.raises(ValidationError) as info:
        score("gad7", {**{f"item{i}": 0 for i in range(1, 8)}, "item8": 0})
    assert "$.answers.item8" == info.value.problems[0].path


@given(instrument_answers("phq9", keyed=False), st.integers(min_value=1, max_value=3))
def test_phq9_item9_always_flags(answers: list[int], item9: int) -> None:
    """PHQ-9 item 9 above 0 raises suicidal_ideation whatever the total."""
    answers[8] = item9
    assert "suicidal_ideation" in score("phq9", answers).flags


@given(instrument_answers("phq9", keyed=False))
def test_phq9_flag_iff_item9(answers: list[int]) -> None:
    """The PHQ-9 flag is raised exactly when item 9 is above 0."""
    assert ("suicidal_ideation" in score("phq9", answers).flags) == (answers[8] > 0)


@given(instrument_answers("phq9"))
def test_phq9_positive_at_ten(answers: object) -> None:
    """A PHQ-9 screen is positive exactly when the total is 10 or more."""
    result = score("phq9", answers)
    assert result.positive == (result.total >= 10)  # type: ignore[operator]


@given(instrument_answers("gad7"))
def test_gad7_positive_at_ten(answers: object) -> None:
    """A GAD-7 screen is positive exactly when the total is 10 or more."""
    result = score("gad7", answers)
    assert result.positive == (result.total >= 10)  # type: ignore[operator]


@given(instrument_answers("qids_sr16", keyed=False))
def test_qids_total_is_domain_max_sum(answers: list[int]) -> None:
    """QIDS-SR16 total is the sum of domain maxima, at most 27, and the plain sum only when no domain double-counts."""
    result = score("qids_sr16", answers)
    expected = sum(max(answers[i - 1] for i in domain) for domain in QIDS_DOMAINS)
    assert expected == result.total
    assert result.total <= 27
    double_counted = any(sum(1 for i in d if answers[i - 1] > 0) > 1 for d in QIDS_DOMAINS)
    assert (result.total == sum(answers)) == (not double_counted)


def test_qids_example_not_the_item_sum() -> None:
    """All QIDS-SR16 items at 3 total 27 (domain maxima), not the item sum 48."""
    result = score("qids_sr16", [3] * 16)
    assert (27, "very_severe") == (result.total, result.band)
    assert 3 == result.subscales["sleep"]


def _dsm5(answers: list[int]) -> bool:
    endorsed = [a >= 2 for a in answers]
    return (
        sum(endorsed[0:5]) >= 1
        and sum(endorsed[5:7]) >= 1
        and sum(endorsed[7:14]) >= 2
        and sum(endorsed[14:20]) >= 2
    )


@given(instrument_answers("pcl5", keyed=False))
def test_pcl5_cluster_rule(answers: list[int]) -> None:
    """The dsm5_provisional_ptsd flag follows the DSM-5 cluster rule, and clusters sum their items."""
    result = score("pcl5", answers)
    assert _dsm5(answers) == ("dsm5_provisional_ptsd" in result.flags)
    assert {
        "b": sum(answers[0:5]),
        "c": sum(answers[5:7]),
        "d": sum(answers[7:14]),
        "e": sum(answers[14:20]),
    } == dict(result.subscales)


def test_pcl5_cutpoint_default_and_override() -> None:
    """PCL-5 is positive at 33 by default, and at a cut-point given to score()."""
    answers = [2] * 16 + [0] * 4  # total 32
    assert (32, False) == (score("pcl5", answers).total, score("pcl5", answers).positive)
    assert score("pcl5", answers, cutpoint=31).positive is True
    assert get_instrument("pcl5").positive.value == 33  # type: ignore[union-attr]
    assert score("pcl5", answers).band is None


def test_pcl5_total_and_cluster_rule_are_independent() -> None:
    """A high total without the cluster pattern is positive but not dsm5_provisional_ptsd."""
    answers = [4] * 5 + [0, 0] + [4] * 7 + [4] * 6  # no C item endorsed
    result = score("pcl5", answers)
    assert result.positive is True
    assert "dsm5_provisional_ptsd" not in result.flags


def _cssrs_high(a: dict[str, bool]) -> bool:
    return (
        a.get("q4", False) or a.get("q5", False) or (a["q6"] and a.get("q6_past_3_months", False))
    )


@given(instrument_answers("cssrs_screener", keyed=True))
def test_cssrs_high_risk_triage(answers: dict[str, bool]) -> None:
    """high_risk is raised by Q4 or Q5 yes, or behaviour in the past 3 months; no total, band or positive."""
    result = score("cssrs_screener", answers)
    assert _cssrs_high(answers) == ("high_risk" in result.flags)
    assert (None, None, None) == (result.total, result.band, result.positive)


def test_cssrs_skip_logic() -> None:
    """Q3-Q5 are required only after Q2 yes, the time frame only after Q6 yes."""
    assert score("cssrs_screener", {"q1": False, "q2": False, "q6": False}).flags == frozenset()
    with pytest.raises(ValidationError) as info:
        score("cssrs_screener", {"q1": True, "q2": True, "q6": False})
    assert "missing answers for q3, q4, q5" in str(info.value)
    with pytest.raises(ValidationError) as info:
        score("cssrs_screener", {"q1": True, "q2": False, "q6": True})
    assert "missing answers for q6_past_3_months" in str(info.value)


def test_cssrs_skipped_item_answered_yes_is_refused() -> None:
    """A yes to an item the form skips (behaviour in 3 months after no behaviour) is refused."""
    with pytest.raises(ValidationError) as info:
        score("cssrs_screener", {"q1": False, "q2": False, "q6": False, "q6_past_3_months": True})
    assert "$.answers.q6_past_3_months" == info.value.problems[0].path


def test_cssrs_lifetime_behaviour_only_is_not_high_risk() -> None:
    """Suicidal behaviour longer than 3 months ago alone does not raise high_risk."""
    answers = {"q1": False, "q2": False, "q6": True, "q6_past_3_months": False}
    assert score("cssrs_screener", answers).flags == frozenset()


def test_cssrs_numbers_are_not_booleans() -> None:
    """1 and 0 are refused where the C-SSRS expects yes/no."""
    with pytest.raises(ValidationError) as info:
        score("cssrs_screener", {"q1": 1, "q2": 0, "q6": False})
    assert ["$.answers.q1", "$.answers.q2"] == [p.path for p in info.value.problems]


def test_bdi2_option_items() -> None:
    """BDI-II items 16 and 18 take option labels, the highest of several counting."""
    answers: list[object] = [0] * 21
    answers[15] = "2a"
    answers[17] = ["1b", "3a"]
    result = score("bdi2", answers)
    assert (2, 3, 5) == (result.items["item16"], result.items["item18"], result.total)


@pytest.mark.parametrize("bad", [2, "4a", "2c", [], ["1a", 2]])
def test_bdi2_option_items_refuse_other_values(bad: object) -> None:
    """A number or an unknown label for BDI-II item 16 is refused at its path."""
    answers: list[object] = [0] * 21
    answers[15] = bad
    answers[17] = "0"
    with pytest.raises(ValidationError) as info:
        score("bdi2", answers)
    assert "$.answers[15]" == info.value.problems[0].path


def test_cadss_subscale_and_no_bands() -> None:
    """CADSS sums to 0-92 with the CADSS-6 subscale, and has no band or cut-point."""
    result = score("cadss", list(range(5)) * 4 + [4, 4, 4])
    assert (52, None, None) == (result.total, result.band, result.positive)
    assert 0 + 1 + 0 + 1 + 4 + 4 == result.subscales["cadss6"]  # items 1, 2, 6, 7, 15, 22


def test_madrs_bands_at_boundaries() -> None:
    """MADRS totals 6, 7, 19, 20, 34, 35 fall in the Snaith bands."""
    inst = get_instrument("madrs")
    bands = [inst.band_for(t).id for t in (6, 7, 19, 20, 34, 35)]  # type: ignore[union-attr]
    assert ["absent", "mild", "mild", "moderate", "moderate", "severe"] == bands


def test_score_items_fill_screening_facts() -> None:
    """Score.items gives item scores by id, e.g. item9 of PHQ-9."""
    result = score("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 2])
    assert 2 == result.items["item9"]
    assert list(get_instrument("phq9").item_ids) == list(result.items)


def test_cutpoint_must_be_an_integer() -> None:
    """A non-integer cut-point is refused."""
    with pytest.raises(ValidationError) as info:
        score("pcl5", [0] * 20, cutpoint="31")  # type: ignore[arg-type]
    assert "$.cutpoint" == info.value.problems[0].path
