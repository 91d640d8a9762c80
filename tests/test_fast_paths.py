"""Every hot-path shortcut agrees with the full checks it stands in for.

Parsing a session takes shortcuts for the common, valid case (a quantity
dict in a unit seen before, an ISO string with an offset, in-order integer
answers, vital signs all in range, a list whose items all parse). Each test
here drives the shortcut and the full path with the same input and asserts
the same result, or the same refusal.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from pathlib import Path
from typing import Annotated, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapproto import Reference, Session, ValidationError, from_dict, from_json, to_dict, to_json
from kapproto import units as u
from kapproto._vitals import VITAL_FIELDS, VitalSigns, vital_ranges
from kapproto.instruments import INSTRUMENTS, get_instrument
from kapproto.instruments._scoring import item_scores
from kapproto.serialization import converter
from kapproto.testing import aware_datetimes, quantities, unit_spellings


def annotated(kind: u.Kind) -> Any:
    return Annotated[u.Quantity, kind]


# --- quantities ------------------------------------------------------------


@given(data=st.data(), kind=st.sampled_from(u.KINDS))
def test_quantity_dict_matches_the_unit_table(data: st.DataObject, kind: u.Kind) -> None:
    """The cached {"value", "unit"} path gives what ``quantity()`` gives, first time and after."""
    unit = data.draw(unit_spellings(kind))
    value = data.draw(
        st.integers(-(10**6), 10**6) | st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
    )
    tp = annotated(kind)
    expected = u.quantity(value, unit, kind=kind)
    first = converter.structure({"value": value, "unit": unit}, tp)
    again = converter.structure({"value": value, "unit": unit}, tp)
    for got in (first, again):
        assert type(got) is type(expected)
        assert got._units is expected._units
        assert type(got.magnitude) is float
        assert got.magnitude == expected.magnitude


@given(
    kind=st.sampled_from(u.KINDS),
    value=st.sampled_from([math.nan, math.inf, -math.inf, 2**60, 10**400, True, "40", None]),
)
def test_quantity_dict_refuses_what_the_full_path_refuses(kind: u.Kind, value: Any) -> None:
    unit = kind.canonical
    converter.structure({"value": 1, "unit": unit}, annotated(kind))  # the unit is now cached
    if type(value) is int and value == 2**60:  # exact integers beyond 2**53 take the full path
        got = converter.structure({"value": value, "unit": unit}, annotated(kind))
        assert got.magnitude == float(value)
        return
    with pytest.raises(ValidationError) as err:
        converter.structure({"value": value, "unit": unit}, annotated(kind))
    assert err.value.problems[0][0] == "$.value"


def test_optional_quantity_field_accepts_null_and_checks_the_rest() -> None:
    reading = {"time": "2026-03-02T09:00:00-07:00", "systolic": None, "heart_rate": "72 /min"}
    got = from_dict(reading, VitalSigns)
    assert got.systolic is None
    assert got.heart_rate == u.quantity("72 /min")
    with pytest.raises(ValidationError) as err:
        from_dict({**reading, "systolic": 120}, VitalSigns)
    assert err.value.problems[0][0] == "$.systolic"
    assert "bare number" in err.value.problems[0][1]


# --- datetimes -------------------------------------------------------------


@given(moment=aware_datetimes())
def test_datetime_string_path_keeps_instant_and_offset(moment: dt.datetime) -> None:
    got = converter.structure(moment.isoformat(), dt.datetime)
    assert got == moment
    assert got.utcoffset() == moment.utcoffset()


@pytest.mark.parametrize(
    "value", ["2026-03-02T09:00:00", "2026-03-02", "yesterday", "2026-13-02T09:00:00Z"]
)
def test_datetime_without_offset_or_malformed_refused(value: str) -> None:
    with pytest.raises(ValidationError) as err:
        converter.structure(value, dt.datetime)
    assert repr(value) in str(err.value)


# --- text fields -----------------------------------------------------------


def check_text(value: str) -> None:
    """Run the ``text`` validator through a record that uses it."""
    Reference(value, "1")


@given(value=st.text(max_size=12))
def test_text_validator_refuses_exactly_blank_and_control_characters(value: str) -> None:
    control = any(unicodedata.category(c) == "Cc" and c not in "\t\r\n" for c in value)
    refused = not value.strip() or control
    if refused:
        with pytest.raises(ValidationError):
            check_text(value)
    else:
        check_text(value)


@pytest.mark.parametrize("value", ["a\x00b", "id\x1b", "\x7f", "x\u0085y"])
def test_text_validator_refuses_control_characters(value: str) -> None:
    with pytest.raises(ValidationError, match="control character"):
        check_text(value)


@pytest.mark.parametrize("value", ["s-001", "line\tone", "zwj\u200dok", "non\u00a0breaking"])
def test_text_validator_accepts_printable_and_format_characters(value: str) -> None:
    check_text(value)


# --- instrument answers ----------------------------------------------------


@given(data=st.data(), instrument=st.sampled_from(sorted(INSTRUMENTS)))
def test_in_order_answers_score_as_keyed_answers(data: st.DataObject, instrument: str) -> None:
    """Answers in item order (the shortcut) score exactly as the same answers keyed by id."""
    inst = get_instrument(instrument)
    n = len(inst.items)
    answers: list[Any] = data.draw(st.lists(st.integers(-1, 6), min_size=n, max_size=n))
    if data.draw(st.booleans()):  # sometimes a gap, a yes/no or an option label
        answers[data.draw(st.integers(0, n - 1))] = data.draw(st.sampled_from([None, True, "1a"]))
    keyed = dict(zip(inst.item_ids, answers, strict=True))
    try:
        expected: object = item_scores(inst, keyed)
    except ValidationError as exc:
        expected = sorted(m for _, m in exc.problems)
    try:
        got: object = item_scores(inst, answers)
    except ValidationError as exc:
        got = sorted(m for _, m in exc.problems)
    assert got == expected


# --- vital signs -----------------------------------------------------------

_T = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=-7)))
_UNITS = {
    "systolic": "mm[Hg]",
    "diastolic": "mm[Hg]",
    "heart_rate": "/min",
    "respiratory_rate": "/min",
    "spo2": "%",
}


@given(readings=st.dictionaries(st.sampled_from(VITAL_FIELDS), st.floats(-10, 400)))
def test_vitals_refused_exactly_when_impossible(readings: dict[str, float]) -> None:
    ranges = vital_ranges()
    impossible = (
        not readings
        or any(not ranges[k][0] < v <= ranges[k][1] for k, v in readings.items())
        or ("systolic" in readings and readings.get("diastolic", -1.0) > readings["systolic"])
    )
    values = {k: u.quantity(v, _UNITS[k]) for k, v in readings.items()}
    if impossible:
        with pytest.raises(ValidationError):
            VitalSigns(_T, **values)
    else:
        assert VitalSigns(_T, **values).has_bp == ("systolic" in values and "diastolic" in values)


# --- lists and sessions ----------------------------------------------------

_EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sessions" / "im-session.json"


@given(bad=st.sets(st.integers(0, 7), min_size=1))
def test_every_bad_list_item_is_reported_with_its_index(bad: set[int]) -> None:
    base = from_json(_EXAMPLE.read_text(), Session)
    doc = to_dict(base)
    reading = doc["vitals"][0]
    doc["vitals"] = [
        {**reading, "systolic": {"value": 500, "unit": "mm[Hg]"}} if i in bad else reading
        for i in range(8)
    ]
    with pytest.raises(ValidationError) as err:
        from_dict(doc, Session)
    assert [p for p, _ in err.value.problems] == [f"$.vitals[{i}].systolic" for i in sorted(bad)]


@given(quantity=quantities(u.MASS, min_value=0.1, max_value=1000))
def test_session_json_round_trip_after_shortcuts(quantity: Any) -> None:
    base = from_json(_EXAMPLE.read_text(), Session)
    doc = to_dict(base)
    doc["administrations"][0]["amount"] = to_dict(quantity)
    doc["administrations"][0].pop("concentration", None)
    doc["administrations"][0].pop("volume", None)
    once = from_dict(doc, Session)
    assert to_dict(once) == doc
    assert from_json(to_json(once), Session) == once


def test_instant_at_the_end_of_the_datetime_range_is_a_kapproto_error() -> None:
    """A zone time whose UTC instant is past year 9999 is a ValidationError, not OverflowError."""
    import zoneinfo

    from kapproto._validators import instant

    late = dt.datetime(9999, 12, 31, 23, tzinfo=zoneinfo.ZoneInfo("America/Denver"))
    with pytest.raises(ValidationError) as err:
        instant(late)
    assert "cannot be placed in UTC" in str(err.value)
    fixed = late.replace(tzinfo=dt.timezone(dt.timedelta(hours=-7)))
    assert instant(fixed) is fixed  # a fixed offset needs no conversion


def test_loads_takes_a_str_subclass() -> None:
    """A str subclass is JSON text like any str."""

    class Text(str):
        pass

    assert Reference("im-kap", "1") == from_json(
        Text('{"id": "im-kap", "version": "1"}'), Reference
    )


def test_an_answer_given_as_a_list_subclass_is_frozen() -> None:
    """Every list among the answers, a subclass too, becomes a tuple: the response stays hashable."""
    from kapproto.instruments import InstrumentResponse
    from kapproto.instruments._responses import _freeze_answers

    class Answers(list[int]):
        pass

    assert (1, (2, 3)) == _freeze_answers([1, Answers([2, 3])])
    assert type(_freeze_answers([1, Answers([2, 3])])[1]) is tuple
    moment = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    response = InstrumentResponse("phq9", moment, Answers([0] * 9))
    assert isinstance(hash(response), int)
