"""The generated record functions agree with the full structuring path, or step aside.

:mod:`kapproto._fast_records` builds kapproto's records from JSON objects in
the common valid case. These tests hold it to its contract: on a valid
document the generated function itself succeeds and gives exactly what the
full path gives; on any document, valid or broken, ``from_dict`` gives the
same record or the same problems with the fast path on and off.
"""

from __future__ import annotations

import copy
import datetime as dt
import enum
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kapproto import (
    Administration,
    Course,
    Reference,
    Session,
    VitalSigns,
    from_dict,
    get_protocol,
    to_dict,
)
from kapproto import _fast_records as fast_records
from kapproto.exceptions import KapprotoError
from kapproto.serialization import converter
from kapproto.testing import sessions
from kapproto.units import MASS, Mass, kind_field

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "sessions"
PROTOCOLS = ("im-kap", "iv-racemic-standard", "sl-kap", "esketamine-trd")


@contextmanager
def full_path_only() -> Iterator[None]:
    """Record hooks skip their generated functions while inside."""
    fast_records.enabled = False
    try:
        yield
    finally:
        fast_records.enabled = True


def outcome(build: Callable[[], Any]) -> tuple[str, Any]:
    """``("record", json)`` or ``("refused", problems)``; any other exception propagates."""
    try:
        record = build()
    except KapprotoError as exc:
        return "refused", exc.problems
    return "record", (record, json.dumps(to_dict(record), sort_keys=True))


def same_either_way(doc: Any, cls: type) -> tuple[str, Any]:
    """``from_dict(doc, cls)`` with and without the fast path; assert they agree."""
    fast = outcome(lambda: from_dict(copy.deepcopy(doc), cls))
    with full_path_only():
        full = outcome(lambda: from_dict(copy.deepcopy(doc), cls))
    assert fast == full
    return fast


def generated(cls: type) -> Callable[[Any], Any]:
    fn = fast_records.compile_record(cls, converter)
    assert fn is not None
    return fn


# --- valid documents: the generated function succeeds and agrees ------------


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_every_example_document_parses_the_same_either_way(path: Path) -> None:
    doc = json.loads(path.read_text())
    kind, _ = same_either_way(doc, Course if "course" in doc["schema"] else Session)
    assert kind == "record"


def test_the_example_session_takes_the_generated_function() -> None:
    """Not a vacuous agreement: the generated function itself builds the record."""
    doc = json.loads((EXAMPLES / "im-session.json").read_text())
    with full_path_only():
        expected = from_dict(doc, Session)
    got = generated(Session)(doc)
    assert got == expected
    assert to_dict(got) == to_dict(expected)
    assert type(got.weight.magnitude) is float
    assert got.weight.units == expected.weight.units
    assert type(got.administrations) is tuple
    assert got.start.utcoffset() == dt.timedelta(hours=-7)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), protocol=st.sampled_from(PROTOCOLS))
def test_generated_sessions_take_the_fast_path_and_agree(
    data: st.DataObject, protocol: str
) -> None:
    session = data.draw(sessions(protocol=get_protocol(protocol)))
    doc = to_dict(session)
    with full_path_only():
        expected = from_dict(copy.deepcopy(doc), Session)
    got = generated(Session)(copy.deepcopy(doc))
    assert got == expected == session
    assert json.dumps(to_dict(got)) == json.dumps(to_dict(expected))


# --- any document: the same record or the same problems ---------------------

_ODD_VALUES: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    2**60,
    1e308,
    float("nan"),
    float("inf"),
    "",
    " ",
    "x",
    "40 mg",
    "a\x00b",
    "2026-03-02T09:00:00",
    "2026-03-02T09:00:00Z",
    "2026-03-02T10:00:00+00:00",
    [],
    [1],
    {},
    {"value": 40},
    {"value": 40, "unit": "mg", "x": 1},
    {"value": "40", "unit": "mg"},
    {"value": 0.04, "unit": "g"},
    {"value": 40000, "unit": "ug"},
    {"value": 40, "unit": "mcg"},
    {"value": 40, "unit": "mg/kg"},
    {"value": 80, "unit": "[lb_av]"},
    {"value": 72, "unit": "/min"},
    {"value": 1e300, "unit": "g"},
    {"value": -5, "unit": "mg"},
    {"value": 40, "unit": ["mg"]},
    {"id": "x", "version": "1"},
    "dosing",
    "intramuscular",
    "final",
    "amended",
)


def _places(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _places(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _places(value, (*path, i))


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


@st.composite
def broken(draw: st.DrawFn, doc: Any) -> Any:
    """``doc`` with one thing changed: a key dropped, added, or a value replaced."""
    doc = copy.deepcopy(doc)
    path = draw(st.sampled_from([p for p in _places(doc) if p]))
    parent, last = _parent(doc, path), path[-1]
    action = draw(st.sampled_from(["replace", "drop", "add"]))
    if action == "drop":
        del parent[last]
    elif action == "add" and isinstance(parent[last], dict):
        parent[last][draw(st.sampled_from(["extra", "schema", "id", "value", "time"]))] = draw(
            st.sampled_from(_ODD_VALUES)
        )
    else:
        parent[last] = draw(st.sampled_from(_ODD_VALUES))
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_broken_session_gives_the_same_record_or_problems_either_way(data: st.DataObject) -> None:
    doc = json.loads((EXAMPLES / "im-session.json").read_text())
    same_either_way(data.draw(broken(doc)), Session)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_broken_course_gives_the_same_record_or_problems_either_way(data: st.DataObject) -> None:
    doc = json.loads((EXAMPLES / "course.json").read_text())
    same_either_way(data.draw(broken(doc)), Course)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), protocol=st.sampled_from(PROTOCOLS))
def test_a_broken_generated_session_gives_the_same_outcome_either_way(
    data: st.DataObject, protocol: str
) -> None:
    doc = to_dict(data.draw(sessions(protocol=get_protocol(protocol))))
    same_either_way(data.draw(broken(doc)), Session)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["vitals"][0].update(systolic={"value": 1200, "unit": "mm[Hg]"}), "systolic"),
        (lambda d: d["administrations"][0].update(start="2026-03-02T08:00:00-07:00"), "start"),
        (lambda d: d.update(schema="kapproto.session/2"), "schema"),
        (lambda d: d["vitals"][1].pop("time"), "time"),
        (lambda d: d.update(weight=80), "weight"),
    ],
)
def test_the_full_path_reports_what_the_generated_function_steps_aside_from(
    change: Callable[[Any], None], where: str
) -> None:
    """A refusal is the full path's, with its JSON path, whichever way the hooks go."""
    doc = json.loads((EXAMPLES / "im-session.json").read_text())
    change(doc)
    with pytest.raises(Exception):  # noqa: B017 - any exception: the generated code gives up
        generated(Session)(copy.deepcopy(doc))
    kind, problems = same_either_way(doc, Session)
    assert kind == "refused"
    assert any(where in path for path, _ in problems)


# --- what the compiler does with the fields it meets ------------------------


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


def _colour(value: object) -> Colour:
    return value if isinstance(value, Colour) else Colour(value)


@attrs.frozen
class Sample:
    """A record (outside kapproto) with each kind of field the compiler handles."""

    name: str
    colour: Colour = attrs.field(converter=_colour)
    amount: Mass = kind_field(MASS)
    when: dt.datetime | None = None
    tags: tuple[str, ...] = ()
    ref: Reference | None = None
    label: str = attrs.field(default=attrs.Factory(lambda self: self.name.upper(), takes_self=True))


@pytest.mark.parametrize(
    "doc",
    [
        {"name": "a", "colour": "red", "amount": {"value": 0.04, "unit": "g"}},
        {
            "name": "b",
            "colour": "blue",
            "amount": {"value": 40, "unit": "mg"},
            "when": "2026-03-02T09:00:00+01:00",
            "tags": ["x", "y"],
            "ref": {"id": "im-kap", "version": "1"},
            "label": "given",
        },
    ],
)
def test_a_compiled_record_equals_the_record_attrs_builds(doc: dict[str, Any]) -> None:
    fn = generated(Sample)
    got = fn(doc)
    expected = converter.structure(doc, Sample)  # not kapproto's: the full path
    assert got == expected
    assert got.amount.magnitude == 40.0
    assert got.label == doc.get("label", doc["name"].upper())


@pytest.mark.parametrize(
    "doc",
    [
        {"name": "a", "colour": "green", "amount": {"value": 1, "unit": "mg"}},
        {"name": "a", "colour": "red", "amount": {"value": 1, "unit": "mg/kg"}},
        {"name": "a", "colour": "red", "amount": 1},
        {"name": "a", "colour": "red", "amount": {"value": 1, "unit": "mg"}, "extra": 1},
        {"name": "a", "colour": "red", "amount": {"value": 1, "unit": "mg"}, "when": "09:00"},
        {"name": "a", "colour": "red", "amount": {"value": 1, "unit": "mg"}, "tags": "xy"},
        {"colour": "red", "amount": {"value": 1, "unit": "mg"}},
    ],
)
def test_a_compiled_record_gives_up_where_the_full_path_refuses(doc: dict[str, Any]) -> None:
    with pytest.raises(Exception):  # noqa: B017 - any exception: the caller takes the full path
        generated(Sample)(doc)
    with pytest.raises(KapprotoError):
        from_dict(doc, Sample)


def test_classes_the_compiler_cannot_reproduce_get_no_function() -> None:
    @attrs.define(init=False)
    class HandWritten:
        x: int

        def __init__(self, x: int) -> None:
            self.__attrs_init__(x)

    @attrs.frozen
    class Private:
        _x: int

    @attrs.frozen
    class PreInit:
        x: int

        def __attrs_pre_init__(self) -> None:
            pass

    for cls in (HandWritten, Private, PreInit):
        assert fast_records.compile_record(cls, converter) is None


def test_generated_source_is_readable_in_tracebacks() -> None:
    import linecache

    generated(VitalSigns)
    name = "<kapproto fast structure kapproto._vitals.VitalSigns>"
    source = "".join(linecache.getlines(name))
    assert source.startswith("def fast_structure_VitalSigns(o):")
    assert "'systolic'" in source


def test_administration_enum_converters_are_skipped_only_because_they_return_members() -> None:
    """The compiler tries each converter on each member before it leaves it out."""
    doc = {
        "id": "a1",
        "medication": "ketamine",
        "route": "intramuscular",
        "formulation": "solution_for_injection",
        "amount": {"value": 40, "unit": "mg"},
        "start": "2026-03-02T09:10:00-07:00",
    }
    got = generated(Administration)(doc)
    with full_path_only():
        assert got == from_dict(doc, Administration)
    assert got.basis.value == "base"  # the default factory ran, after the fields it reads


def test_a_users_own_hooks_are_used_with_the_fast_path_on() -> None:
    """A converter configured by kapproto, then given its own str and datetime hooks, uses them.

    The generated code writes the valid case inline only for kapproto's own
    hooks; anything a user registers is called as it is.
    """
    import cattrs

    from kapproto.serialization import configure_converter
    from kapproto.units import Mass, quantity

    def utc(value: Any, _: Any) -> dt.datetime:
        return dt.datetime.fromisoformat(value).astimezone(dt.UTC)

    def build() -> cattrs.Converter:
        conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
        configure_converter(conv)
        conv.register_structure_hook(dt.datetime, utc)
        conv.register_structure_hook(str, lambda v, _: v.strip())
        conv.register_structure_hook_func(lambda t: t == Mass, lambda v, _: quantity(f"{v} mg"))
        return conv

    vitals = {"time": "2026-03-02T09:00:00-07:00", "heart_rate": {"value": 72, "unit": "/min"}}
    ref = {"id": " im-kap ", "version": "1"}
    adm = {
        "id": "a1",
        "medication": "ketamine",
        "route": "intramuscular",
        "formulation": "solution_for_injection",
        "amount": 40,
        "start": "2026-03-02T09:10:00-07:00",
    }
    fast = build()
    got = (fast.structure(vitals, VitalSigns), fast.structure(ref, Reference))
    got_adm = fast.structure(adm, Administration)
    with full_path_only():
        full = build()
        expected = (full.structure(vitals, VitalSigns), full.structure(ref, Reference))
        expected_adm = full.structure(adm, Administration)
    assert got == expected
    assert got_adm == expected_adm
    assert got[0].time.tzinfo is dt.UTC
    assert got[1].id == "im-kap"
    assert got_adm.amount.magnitude == 40.0
