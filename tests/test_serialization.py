"""Tests of kapproto.serialization: canonical JSON, round trips, strictness, paths, schemas."""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import cattrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kapproto._codes import SNOMED, Coding
from kapproto.exceptions import KapprotoError, ValidationError
from kapproto.serialization import (
    configure_converter,
    converter,
    document_kind,
    from_dict,
    from_json,
    loads,
    register_document,
    register_hooks,
    register_migration,
    schema_of,
    to_dict,
    to_json,
)
from kapproto.testing import aware_datetimes, json_values, quantities
from kapproto.units import (
    BODY_MASS,
    DURATION,
    FRACTION,
    MASS,
    PRESSURE,
    VOLUME,
    BodyMass,
    Duration,
    Fraction,
    Mass,
    Pressure,
    Volume,
    kind_field,
    quantity,
)

FIXTURES = Path(__file__).parent / "fixtures"

# --------------------------------------------------------------------------
# Test-only records
# --------------------------------------------------------------------------


class Color(enum.Enum):
    DARK_RED = "dark_red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Mode(enum.StrEnum):
    FAST = "fast"
    SLOW = "slow"


@attrs.frozen
class Reading:
    time: dt.datetime
    systolic: Pressure = kind_field(PRESSURE)
    spo2: Fraction | None = kind_field(FRACTION, optional=True, default=None)


@register_document("test_record", 3)
@attrs.frozen
class Record:
    id: str
    count: int
    ratio: float
    flag: bool
    color: Color
    tags: frozenset[str]
    amount: Mass = kind_field(MASS)
    weight: BodyMass | None = kind_field(BODY_MASS, optional=True, default=None)
    readings: tuple[Reading, ...] = ()
    window: tuple[str, Duration] | None = None
    doses: frozenset[Mass] = frozenset()
    volumes: dict[str, Volume] = attrs.field(factory=dict, hash=False)
    note: str | None = None


@register_migration("test_record", 1)
def _v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
    assert "schema" not in doc
    doc["id"] = doc.pop("name")
    return doc


@register_migration("test_record", 2)
def _v2_to_v3(doc: dict[str, Any]) -> dict[str, Any]:
    doc["amount"] = {"value": doc.pop("amount_mg"), "unit": "mg"}
    return doc


@register_document("test_unmigrated", 2)
@attrs.frozen
class Unmigrated:
    id: str


@attrs.frozen
class Modes:
    mode: Mode
    level: Level
    names: tuple[str, ...] = ()


GOOD: dict[str, Any] = {
    "schema": "kapproto.test_record/3",
    "id": "r-1",
    "count": 2,
    "ratio": 0.25,
    "flag": False,
    "color": "blue",
    "tags": ["b", "a"],
    "amount": {"value": 40, "unit": "mg"},
    "readings": [
        {"time": "2026-03-02T09:00:00-07:00", "systolic": {"value": 128, "unit": "mm[Hg]"}},
        {"time": "2026-03-02T09:40:00-07:00", "systolic": "130 mmHg", "spo2": "97 %"},
    ],
}

# --------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------

fixed_offsets = st.integers(min_value=-48, max_value=56).map(
    lambda q: dt.timezone(dt.timedelta(minutes=15 * q))
)
# JSON carries the offset, not a zone name: round-trip identity holds for fixed offsets.
offset_datetimes = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31), timezones=fixed_offsets
)
readings = st.builds(
    Reading,
    time=offset_datetimes,
    systolic=quantities(PRESSURE, max_value=300),
    spo2=st.none() | quantities(FRACTION, max_value=100),
)
records = st.builds(
    Record,
    id=st.text(max_size=10),
    count=st.integers(),
    ratio=st.floats(allow_nan=False, allow_infinity=False),
    flag=st.booleans(),
    color=st.sampled_from(Color),
    tags=st.frozensets(st.text(max_size=5), max_size=4),
    amount=quantities(MASS),
    weight=st.none() | quantities(BODY_MASS, max_value=500),
    readings=st.lists(readings, max_size=3).map(tuple),
    window=st.none() | st.tuples(st.text(max_size=5), quantities(DURATION)),
    doses=st.frozensets(quantities(MASS), max_size=3),
    volumes=st.dictionaries(st.text(max_size=5), quantities(VOLUME), max_size=3),
    note=st.none() | st.text(max_size=20),
)


def _problems(exc: KapprotoError) -> dict[str, str]:
    return dict(exc.problems)


def _paths_raised(read: Callable[[], object]) -> list[str]:
    """Paths of the ValidationError ``read`` raises, ``[]`` if it succeeds; anything else propagates."""
    try:
        read()
    except ValidationError as exc:
        return [p for p, _ in exc.problems] or ["<no problem listed>"]
    return []


def _paths(data: Any, cls: type = Record) -> list[str]:
    with pytest.raises(ValidationError) as info:
        from_dict(data, cls)
    return [p for p, _ in info.value.problems]


def _json_primitives(value: Any, path: str = "$") -> None:
    """Walk ``value``: only dict (str keys), list, str, int, float, bool and None may appear."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            assert type(key) is str, f"{path}: key {key!r}"
            _json_primitives(item, f"{path}.{key}")
    elif kind is list:
        for i, item in enumerate(value):
            _json_primitives(item, f"{path}[{i}]")
    else:
        assert kind in (str, int, float, bool, type(None)), f"{path}: {kind.__name__} {value!r}"
        assert kind is not float or math.isfinite(value), path


# --------------------------------------------------------------------------
# Round trips and canonical JSON
# --------------------------------------------------------------------------


@given(records)
def test_json_round_trip_identity(record: Record) -> None:
    """from_json(to_json(x)) == x for generated records."""
    assert record == from_json(to_json(record), Record)


@given(records)
def test_to_dict_gives_only_json_primitives(record: Record) -> None:
    """to_dict produces nothing but JSON primitives, and from_dict reads it back."""
    data = to_dict(record)
    _json_primitives(data)
    assert record == from_dict(data, Record)


@given(records)
def test_to_json_is_deterministic(record: Record) -> None:
    """The same record gives the same JSON text, also after a round trip."""
    assert to_json(record) == to_json(from_json(to_json(record), Record))


@given(aware_datetimes())
def test_zone_datetimes_keep_instant_and_offset(moment: dt.datetime) -> None:
    """A datetime in an IANA zone comes back at the same instant with the same UTC offset."""
    record = Reading(time=moment, systolic=quantity("120 mmHg"))
    back = from_json(to_json(record), Reading)
    assert (moment.timestamp(), moment.utcoffset()) == (
        back.time.timestamp(),
        back.time.utcoffset(),
    )


def test_canonical_json() -> None:
    """Canonical JSON: int magnitudes when integral, UCUM codes, offsets as given, sets sorted."""
    record = Record(
        id="r-1",
        count=2,
        ratio=0.5,
        flag=True,
        color=Color.DARK_RED,
        tags=frozenset({"zeta", "alpha", "mid"}),
        amount=quantity("0.04 g"),
        weight=quantity("80.5 kg"),
        readings=(
            Reading(
                time=dt.datetime.fromisoformat("2026-03-02T09:00:00+05:30"),
                systolic=quantity("128.0 mmHg"),
                spo2=quantity("97 percent"),
            ),
            Reading(
                time=dt.datetime(2026, 3, 2, 16, 0, tzinfo=dt.UTC),
                systolic=quantity("120 mmHg"),
            ),
        ),
        window=("recheck", quantity("1 h")),
        doses=frozenset({quantity("0.5 mg"), quantity("500 mcg"), quantity("2 g")}),
        volumes={"drawn": quantity("0.4 mL")},
    )
    expected = {
        "schema": "kapproto.test_record/3",
        "id": "r-1",
        "count": 2,
        "ratio": 0.5,
        "flag": True,
        "color": "dark_red",
        "tags": ["alpha", "mid", "zeta"],
        "amount": {"value": 40, "unit": "mg"},
        "weight": {"value": 80.5, "unit": "kg"},
        "readings": [
            {
                "time": "2026-03-02T09:00:00+05:30",
                "systolic": {"value": 128, "unit": "mm[Hg]"},
                "spo2": {"value": 97, "unit": "%"},
            },
            {
                "time": "2026-03-02T16:00:00+00:00",
                "systolic": {"value": 120, "unit": "mm[Hg]"},
                "spo2": None,
            },
        ],
        "window": ["recheck", {"value": 60, "unit": "min"}],
        "doses": [{"value": 0.5, "unit": "mg"}, {"value": 2000, "unit": "mg"}],
        "volumes": {"drawn": {"value": 0.4, "unit": "mL"}},
        "note": None,
    }
    assert expected == to_dict(record)
    assert json.dumps(expected, ensure_ascii=False) == to_json(record)
    assert isinstance(to_dict(record)["amount"]["value"], int)


def test_integral_float_accepted_as_int() -> None:
    """JSON has one number type: 2.0 where an int belongs is 2, an int where a float belongs a float."""
    record = from_dict({**GOOD, "count": 2.0, "ratio": 1}, Record)
    assert (2, int, 1.0, float) == (
        record.count,
        type(record.count),
        record.ratio,
        type(record.ratio),
    )


def test_quantity_accepts_text_and_other_units() -> None:
    """On input a quantity may be '40 mg' or another unit of its kind; output is canonical."""
    record = from_dict({**GOOD, "amount": "0.04 g", "weight": {"value": 176, "unit": "lb"}}, Record)
    assert quantity("40 mg") == record.amount
    assert {"value": 79.83225712, "unit": "kg"} == to_dict(record)["weight"]


def test_enum_subclasses_of_str_and_int() -> None:
    """StrEnum and IntEnum fields take only their members' values and write plain values."""
    value = Modes(Mode.SLOW, Level.HIGH)
    assert {"mode": "slow", "level": 2, "names": []} == to_dict(value)
    assert str is type(to_dict(value)["mode"])
    assert value == from_dict({"mode": "slow", "level": 2}, Modes)
    with pytest.raises(ValidationError) as info:
        from_dict({"mode": "medium", "level": 5}, Modes)
    assert {
        "$.mode": "'medium' is not a Mode; expected one of 'fast', 'slow'",
        "$.level": "5 is not a Level; expected one of 1, 2",
    } == _problems(info.value)


# --------------------------------------------------------------------------
# Bad input: every problem with its exact path
# --------------------------------------------------------------------------


def test_good_document_loads() -> None:
    """The base document used by the error tests is valid."""
    record = from_dict(GOOD, Record)
    assert ("r-1", frozenset({"a", "b"}), quantity("97 %")) == (
        record.id,
        record.tags,
        record.readings[1].spo2,
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"extra": 1}, {"$.extra"}),
        ({"readings": [{**GOOD["readings"][0], "zz": 1}]}, {"$.readings[0].zz"}),
        ({"amount": {"value": 1, "unit": "mg", "x": 2}}, {"$.amount.x"}),
    ],
)
def test_unknown_keys(change: dict[str, Any], expected: set[str]) -> None:
    """Unknown keys are errors at their own path, at every depth."""
    assert expected == set(_paths({**GOOD, **change}))


def test_unknown_key_message_lists_fields() -> None:
    """The unknown-key message names the key and the fields the record has."""
    with pytest.raises(ValidationError) as info:
        from_dict({**GOOD, "readings": [{**GOOD["readings"][0], "zz": 1}]}, Record)
    assert {
        "$.readings[0].zz": "unknown key 'zz'; expected one of: time, systolic, spo2"
    } == _problems(info.value)


def test_missing_keys() -> None:
    """Missing required keys are reported at their paths, quantities' value/unit included."""
    data = {k: v for k, v in GOOD.items() if k not in {"count", "color"}}
    data["amount"] = {"value": 40}
    data["readings"] = [{"systolic": "120 mmHg"}]
    with pytest.raises(ValidationError) as info:
        from_dict(data, Record)
    assert {
        "$.count": "required key is missing",
        "$.color": "required key is missing",
        "$.amount.unit": "missing",
        "$.readings[0].time": "required key is missing",
    } == _problems(info.value)


def test_naive_datetime() -> None:
    """A naive datetime is refused at its path, naming the value and asking for an offset."""
    data = {
        **GOOD,
        "readings": [GOOD["readings"][0], {**GOOD["readings"][1], "time": "2026-03-02T09:40:00"}],
    }
    with pytest.raises(ValidationError) as info:
        from_dict(data, Record)
    [(path, message)] = info.value.problems
    assert "$.readings[1].time" == path
    assert "'2026-03-02T09:40:00' is a naive date-time; give its UTC offset" in message


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (
            "kapproto.session/1",
            "schema 'kapproto.session/1' is not a test_record document; "
            "expected 'kapproto.test_record/3'",
        ),
        (
            "kapproto.test_record/4",
            "schema 'kapproto.test_record/4' is newer than this kapproto supports "
            "(kapproto.test_record/3); upgrade kapproto",
        ),
        ("kapproto.test_record/0", "unknown schema version 'kapproto.test_record/0'"),
        ("test_record/3", "schema 'test_record/3' is not of the form 'kapproto.<kind>/<version>'"),
        (3, "schema 3 is not of the form 'kapproto.<kind>/<version>'"),
    ],
)
def test_schema_refused(schema: object, message: str) -> None:
    """A wrong kind, a newer, zero or malformed schema is refused at $.schema, naming it."""
    with pytest.raises(ValidationError) as info:
        from_dict({**GOOD, "schema": schema}, Record)
    assert {"$.schema": message} == _problems(info.value)


def test_schema_of_and_document_kind() -> None:
    """schema_of reads (kind, version); document_kind names a registered class's kind."""
    assert ("test_record", 3) == schema_of(GOOD)
    assert schema_of({"id": 1}) is None
    assert "test_record" == document_kind(Record)
    assert document_kind(Reading) is None


def test_document_without_schema_is_current() -> None:
    """A document without a schema key is read as the current version."""
    data = {k: v for k, v in GOOD.items() if k != "schema"}
    assert from_dict(GOOD, Record) == from_dict(data, Record)


def test_migration_chain_from_stored_document() -> None:
    """A stored version-1 document is upgraded 1 -> 2 -> 3 by the registered migrations."""
    record = from_json((FIXTURES / "test_record-v1.json").read_bytes(), Record)
    assert (
        Record(
            id="r-legacy",
            count=3,
            ratio=0.5,
            flag=True,
            color=Color.DARK_RED,
            tags=frozenset({"triage", "adult"}),
            amount=quantity("40 mg"),
            readings=(
                Reading(
                    time=dt.datetime.fromisoformat("2026-03-02T09:00:00-07:00"),
                    systolic=quantity("128 mmHg"),
                ),
            ),
        )
        == record
    )
    assert "kapproto.test_record/3" == to_dict(record)["schema"]


def test_missing_migration_named() -> None:
    """An old version with no registered migration is refused, naming the step."""
    with pytest.raises(ValidationError) as info:
        from_dict({"schema": "kapproto.test_unmigrated/1", "id": "x"}, Unmigrated)
    assert {"$.schema": "no migration from 'kapproto.test_unmigrated/1' to version 2"} == _problems(
        info.value
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"id": "a", "id": "b"}', "$.id"),
        ('{"readings": [{"time": 1, "time": 2}]}', "$.readings[0].time"),
        ('{"a b": 1, "a b": 2}', "$['a b']"),
    ],
)
def test_duplicate_json_keys(text: str, where: str) -> None:
    """Duplicate keys in a JSON object are refused at the repeated key's path, naming it."""
    with pytest.raises(ValidationError) as info:
        from_json(text, Record)
    [(path, message)] = info.value.problems
    assert where == path
    assert message.startswith("duplicate key ")
    assert "in a JSON object" in message


_SEGMENTS = st.lists(st.text(min_size=1, max_size=5) | st.integers(0, 3), max_size=6)


def _nest(segments: list[str | int], leaf: str) -> tuple[str, str]:
    """JSON text with ``leaf`` at ``segments``, and the JSON path of that place."""
    text, path = leaf, "$"
    for segment in reversed(segments):
        if isinstance(segment, int):
            text = "[" + "null, " * segment + text + "]"
        else:
            text = "{" + json.dumps(segment) + ": " + text + "}"
    for segment in segments:
        if isinstance(segment, int):
            path += f"[{segment}]"
        else:
            path += f".{segment}" if segment.isidentifier() else f"[{segment!r}]"
    return text, path


@given(segments=_SEGMENTS, key=st.text(min_size=1, max_size=5))
def test_duplicate_key_reported_at_its_path(segments: list[str | int], key: str) -> None:
    """Wherever a key is repeated, the problem's path leads to it; the rest is not lost."""
    member = json.dumps(key)
    text, path = _nest(segments, "{" + f"{member}: 1, {member}: 2" + "}")
    with pytest.raises(ValidationError) as info:
        loads(text)
    where = f"{path}.{key}" if key.isidentifier() else f"{path}[{key!r}]"
    assert [p for p, _ in info.value.problems] == [where]
    assert repr(key) in info.value.problems[0][1]


@given(segments=_SEGMENTS, constant=st.sampled_from(["NaN", "Infinity", "-Infinity"]))
def test_non_finite_number_reported_at_its_path(segments: list[str | int], constant: str) -> None:
    text, path = _nest(segments, constant)
    with pytest.raises(ValidationError) as info:
        loads(text)
    assert [tuple(p) for p in info.value.problems] == [
        (path, f"{constant} is not valid JSON; numbers must be finite")
    ]


def test_every_duplicate_and_constant_reported_in_document_order() -> None:
    text = '{"v": [{"x": NaN, "y": 1, "y": -Infinity}], "k": 1, "k": 2}'
    with pytest.raises(ValidationError) as info:
        loads(text)
    assert [p for p, _ in info.value.problems] == ["$.v[0].x", "$.v[0].y", "$.v[0].y", "$.k"]


def test_duplicate_key_before_a_syntax_error_reports_the_syntax_error() -> None:
    with pytest.raises(ValidationError) as info:
        loads('[{"a": 1, "a": 2}, oops]')
    [(path, message)] = info.value.problems
    assert path == "$"
    assert message.startswith("not valid JSON: Expecting value")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_json(constant: str) -> None:
    """NaN and infinities are not JSON; they are refused at parse time."""
    text = json.dumps({**GOOD, "amount": {"value": 0, "unit": "mg"}}).replace(
        '"value": 0', f'"value": {constant}'
    )
    with pytest.raises(ValidationError) as info:
        from_json(text, Record)
    assert {"$.amount.value": f"{constant} is not valid JSON; numbers must be finite"} == _problems(
        info.value
    )


def test_nan_from_python_refused_at_path() -> None:
    """A NaN or infinite magnitude or float given from Python is refused at its path."""
    data = {**GOOD, "ratio": math.inf, "amount": {"value": math.nan, "unit": "mg"}}
    with pytest.raises(ValidationError) as info:
        from_dict(data, Record)
    assert {
        "$.ratio": "expected a finite number, got inf",
        "$.amount.value": "expected a finite number, got nan",
    } == _problems(info.value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"count": True}, {"$.count": "expected an integer, got True"}),
        ({"ratio": False}, {"$.ratio": "expected a number, got False"}),
        (
            {"amount": {"value": True, "unit": "mg"}},
            {"$.amount.value": "expected a finite number, got True"},
        ),
        ({"count": "5"}, {"$.count": "expected an integer, got '5'"}),
        ({"count": 1.5}, {"$.count": "expected an integer, got 1.5"}),
        ({"ratio": "0.5"}, {"$.ratio": "expected a number, got '0.5'"}),
        (
            {"amount": {"value": "40", "unit": "mg"}},
            {"$.amount.value": "expected a finite number, got '40'"},
        ),
        ({"flag": 1}, {"$.flag": "expected true or false, got 1"}),
        ({"flag": "true"}, {"$.flag": "expected true or false, got 'true'"}),
        ({"id": 7}, {"$.id": "expected a string, got 7"}),
        (
            {"color": "BLUE"},
            {"$.color": "'BLUE' is not a Color; expected one of 'dark_red', 'blue'"},
        ),
        (
            {"amount": 40},
            {"$.amount": 'is a bare number; a MASS needs a unit, e.g. {"value": 40, "unit": "mg"}'},
        ),
        ({"amount": "40"}, {"$.amount": "'40' has no unit; a bare number is never a quantity"}),
        (
            {"amount": {"value": 40, "unit": "mg/kg"}},
            {"$.amount.unit": "'mg/kg' is not a unit of a MASS"},
        ),
        ({"amount": {"value": 40, "unit": "furlong"}}, {"$.amount.unit": "unknown unit 'furlong'"}),
        (
            {"amount": {"value": 40, "unit": 5}},
            {"$.amount.unit": "expected a unit string such as 'mg', got 5"},
        ),
        ({"amount": {"value": 1e308, "unit": "g"}}, {"$.amount.value": "out of range"}),
        (
            {"amount": {"value": 10**400, "unit": "mg"}},
            {"$.amount.value": "expected a finite number"},
        ),
        ({"amount": ["40", "mg"]}, {"$.amount": "expected a MASS such as"}),
    ],
)
def test_wrong_types_at_path(change: dict[str, Any], expected: dict[str, str]) -> None:
    """Booleans where numbers belong, strings where numbers belong, bare numbers as doses: refused at the path."""
    with pytest.raises(ValidationError) as info:
        from_dict({**GOOD, **change}, Record)
    found = _problems(info.value)
    assert set(expected) == set(found)
    for path, fragment in expected.items():
        assert fragment in found[path]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"tags": "abc"}, {"$.tags": "expected a JSON array, got 'abc'"}),
        ({"readings": {"0": GOOD["readings"][0]}}, {"$.readings": "expected a JSON array, got"}),
        (
            {"readings": ["120 mmHg"]},
            {"$.readings[0]": "expected a Reading (a JSON object), got '120 mmHg'"},
        ),
        ({"window": ["recheck"]}, {"$.window": "expected an array of 2 items, got ['recheck']"}),
        ({"window": ["recheck", "40 min", "x"]}, {"$.window": "expected an array of 2 items"}),
        ({"window": ["recheck", "40"]}, {"$.window[1]": "'40' has no unit"}),
        ({"volumes": [1]}, {"$.volumes": "expected a JSON object, got [1]"}),
        ({"volumes": {"a": "1 mg"}}, {"$.volumes['a']": "1 mg must be a VOLUME (mL, L)"}),
        (
            {"doses": ["1 mg", "1 mL"]},
            {"$.doses[1]": "1 mL must be a MASS (ug, mg, g)"},
        ),
        (
            {"tags": [1, "a", None]},
            {"$.tags[0]": "expected a string, got 1", "$.tags[2]": "expected a string, got None"},
        ),
    ],
)
def test_collections_need_arrays_and_objects(
    change: dict[str, Any], expected: dict[str, str]
) -> None:
    """A string or object is never read as an array (nor a list as an object); items report their index."""
    with pytest.raises(ValidationError) as info:
        from_dict({**GOOD, **change}, Record)
    found = _problems(info.value)
    assert set(expected) == set(found)
    for path, fragment in expected.items():
        assert fragment in found[path]


@pytest.mark.parametrize("data", [[1, 2], None, "record", 5])
def test_document_must_be_an_object(data: object) -> None:
    """A document that is not a JSON object is refused at $, naming the kind."""
    with pytest.raises(ValidationError) as info:
        from_dict(data, Record)
    assert {"$": f"expected a test_record document (a JSON object), got {data!r}"} == _problems(
        info.value
    )


def test_every_problem_reported_at_once() -> None:
    """A document with many problems at several depths reports all of them in one error."""
    data = {
        **GOOD,
        "count": "2",
        "flag": None,
        "color": "green",
        "extra": True,
        "amount": {"value": 40, "unit": "mg/kg"},
        "readings": [
            {"time": "2026-03-02T09:00:00", "systolic": 128},
            {"time": "2026-03-02T09:40:00Z", "systolic": "130 mmHg", "spo2": "0.97"},
        ],
        "tags": ["a", 2],
    }
    with pytest.raises(ValidationError) as info:
        from_dict(data, Record)
    assert [
        "$.amount.unit",
        "$.color",
        "$.count",
        "$.extra",
        "$.flag",
        "$.readings[0].systolic",
        "$.readings[0].time",
        "$.readings[1].spo2",
        "$.tags[1]",
    ] == sorted(p for p, _ in info.value.problems)
    assert str(info.value).startswith("9 problems:\n")


def test_quantity_reports_unit_and_value_together() -> None:
    """A quantity with a bad unit and a bad value reports both, each at its path."""
    with pytest.raises(ValidationError) as info:
        from_dict({**GOOD, "amount": {"value": "forty", "unit": "furlong"}}, Record)
    found = _problems(info.value)
    assert ["$.amount.unit", "$.amount.value"] == sorted(found)
    assert "expected a finite number, got 'forty'" == found["$.amount.value"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{", "not valid JSON: Expecting property name"),
        (b"\xff", "not valid JSON: 'utf-8' codec can't decode"),
        ("1" * 5000, "not valid JSON: Exceeds the limit"),
        ("[" * 100_000, "not valid JSON"),
        ("", "not valid JSON: Expecting value"),
    ],
)
def test_loads_refuses_invalid_json(text: str | bytes, fragment: str) -> None:
    """Invalid JSON text of any sort is a ValidationError at $, never a bare exception."""
    with pytest.raises(ValidationError) as info:
        loads(text)
    [(path, message)] = info.value.problems
    assert "$" == path
    assert message.startswith(fragment)


# --------------------------------------------------------------------------
# Fuzzing: nothing but KapprotoError escapes
# --------------------------------------------------------------------------


@given(json_values())
@example({"schema": "kapproto.test_record/1"})
@example({"amount": {"value": 1, "unit": "mg"}, "tags": "x"})
def test_arbitrary_json_raises_only_kapproto_errors(value: Any) -> None:
    """For arbitrary JSON-like input, from_json and from_dict raise nothing but ValidationError."""
    for paths in (
        _paths_raised(lambda: from_json(json.dumps(value), Record)),
        _paths_raised(lambda: from_dict(value, Record)),
    ):
        assert all(p.startswith("$") for p in paths)


@given(st.sampled_from(sorted(attrs.fields_dict(Record))), json_values(max_leaves=8))
def test_one_corrupted_field_raises_only_kapproto_errors(field: str, value: Any) -> None:
    """One field replaced by arbitrary JSON gives a record or a ValidationError at that field."""
    paths = _paths_raised(lambda: from_dict({**GOOD, field: value}, Record))
    assert all(p == f"$.{field}" or p.startswith((f"$.{field}.", f"$.{field}[")) for p in paths)


@given(json_values(max_leaves=8))
def test_corrupted_reading_raises_only_kapproto_errors(value: Any) -> None:
    """Arbitrary JSON as a nested record gives a ValidationError under that record's path."""
    paths = _paths_raised(
        lambda: from_dict({**GOOD, "readings": [GOOD["readings"][0], value]}, Record)
    )
    assert all(p.startswith("$.readings[1]") for p in paths)


# --------------------------------------------------------------------------
# A converter of the user's own
# --------------------------------------------------------------------------

fresh = cattrs.Converter()
configure_converter(fresh)


@given(records)
def test_configured_converter_behaves_alike(record: Record) -> None:
    """A fresh cattrs.Converter given configure_converter writes and reads records as kapproto does."""
    assert to_dict(record) == fresh.unstructure(record)
    assert record == fresh.structure(to_dict(record), Record)


def test_configured_converter_refuses_like_kapproto() -> None:
    """On a fresh converter bad input fails with kapproto's ValidationError inside cattrs' group."""
    with pytest.raises(cattrs.ClassValidationError) as info:
        fresh.structure({**GOOD, "count": True, "amount": 40}, Record)
    leaves = [e for e in info.value.exceptions if isinstance(e, ValidationError)]
    assert sorted(
        [
            "expected an integer, got True",
            'is a bare number; a MASS needs a unit, e.g. {"value": 40, "unit": "mg"}',
        ]
    ) == sorted(
        m if "bare" not in m else m[m.index("is a bare") :] for e in leaves for _, m in e.problems
    )


def test_kapproto_records_refuse_unknown_keys_on_any_converter() -> None:
    """The library's own records refuse unknown keys even on a converter built without forbid_extra_keys."""
    data = {"system": SNOMED, "code": "78421000", "display": "Intramuscular route"}
    assert Coding(SNOMED, "78421000", "Intramuscular route") == fresh.structure(data, Coding)
    with pytest.raises(cattrs.ClassValidationError) as info:
        fresh.structure({**data, "extra": 1}, Coding)
    assert [cattrs.ForbiddenExtraKeysError] == [type(e) for e in info.value.exceptions]
    assert {"$.extra"} == set(_paths({**data, "extra": 1}, Coding))


class Celsius(float):
    """A test-only type given hooks through register_hooks."""


def test_register_hooks_reaches_configured_converters() -> None:
    """A hook registered after configure_converter is applied to every configured converter."""

    @register_hooks
    def _celsius(conv: cattrs.Converter) -> None:
        conv.register_structure_hook(Celsius, lambda v, _: Celsius(float(v[:-2])))
        conv.register_unstructure_hook(Celsius, lambda v: f"{float(v)} C")

    for conv in (converter, fresh):
        assert Celsius(37.5) == conv.structure("37.5 C", Celsius)
        assert "37.5 C" == conv.unstructure(Celsius(37.5), Celsius)


def test_to_dict_of_a_bare_quantity_is_canonical_json() -> None:
    """A quantity on its own unstructures to {"value", "unit"} like a record field."""
    assert {"value": 40, "unit": "mg"} == to_dict(quantity("0.04 g"))
    assert '{"value": 120, "unit": "mm[Hg]"}' == to_json(quantity("120 mmHg"))
