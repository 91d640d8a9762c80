"""Properties of loading protocols: only ProtocolError, every problem at once, checks that run."""

from __future__ import annotations

import copy
import json
import re
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kapproto import Course, Protocol, Session, check_course, check_session, load_protocol
from kapproto.exceptions import ProtocolError
from kapproto.serialization import from_json

ROOT = Path(__file__).resolve().parent.parent
PROTOCOLS = ROOT / "src" / "kapproto" / "data" / "protocols"
BUILTIN = {p.stem: tomllib.loads(p.read_text(encoding="utf-8")) for p in PROTOCOLS.glob("*.toml")}
SESSIONS = [
    from_json((ROOT / "examples" / "sessions" / name).read_text(encoding="utf-8"), Session)
    for name in ("im-session.json", "esketamine-session.json", "early-discharge.json")
]
COURSE = from_json(
    (ROOT / "examples" / "sessions" / "course.json").read_text(encoding="utf-8"), Course
)

Data = dict[str, Any]

MAGNITUDES = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.integers(-(10**6), 10**6),
    st.sampled_from([0, 1e-30, 0.04, 28, 150, 1e6, 5e9, 1e12, 1e30, 1e300]),
).map(lambda n: format(n, "g") if isinstance(n, float) else str(n))
UNITS = ["mg", "g", "ug", "mg/kg", "mg/min", "mg/kg/h", "min", "h", "d", "wk", "a", "s", "mm[Hg]"]
quantities = st.builds("{} {}".format, MAGNITUDES, st.sampled_from(UNITS))
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6) | quantities,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["value", "source", "confidence", "at", "tolerance", "anchor", "x"]),
            children,
            max_size=3,
        )
    ),
    max_leaves=6,
)


def leaves(node: Any, where: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a document a value can be replaced: each key and list item."""
    out: list[tuple[Any, ...]] = [where] if where else []
    if isinstance(node, dict):
        for key, child in node.items():
            out += leaves(child, (*where, key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            out += leaves(child, (*where, i))
    return out


QUANTITY = re.compile(r"^[-+.\deE]+ \S+$")


def quantity_leaves(data: Data) -> list[tuple[Any, ...]]:
    """The places that hold a quantity such as ``"40 min"``."""
    found = []
    for where in leaves(data):
        node: Any = data
        for step in where:
            node = node[step]
        if isinstance(node, str) and QUANTITY.match(node):
            found.append(where)
    return found


@st.composite
def mutated(draw: st.DrawFn) -> Data:
    """A built-in protocol with one to three values replaced, removed or added."""
    data = copy.deepcopy(BUILTIN[draw(st.sampled_from(sorted(BUILTIN)))])
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["rescale", "rescale", "replace", "remove", "add"]))
        where = draw(st.sampled_from(quantity_leaves(data) or leaves(data)))
        if action != "rescale":
            where = draw(st.sampled_from(leaves(data)))
        parent: Any = data
        for step in where[:-1]:
            parent = parent[step]
        old = parent[where[-1]]
        if action == "rescale" and isinstance(old, str) and QUANTITY.match(old):
            # the same unit, another magnitude: the file stays well formed, the number extreme
            parent[where[-1]] = f"{draw(MAGNITUDES)} {old.split(' ', 1)[1]}"
        elif action == "remove" and isinstance(parent, dict):
            del parent[where[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["first_session_max", "max_rate", "recheck", "x"]))] = draw(
                values
            )
        else:
            parent[where[-1]] = draw(values)
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_a_mutated_builtin_loads_or_raises_protocol_error_and_its_checks_run(data: Data) -> None:
    """Any change to a built-in file loads or raises exactly ProtocolError; what loads can be checked.

    The checks then add the protocol's durations to record times and round its
    limits: they must neither overflow nor raise for the example records.
    """
    refused: ProtocolError | None = None
    try:
        protocol = Protocol.from_dict(data)
    except ProtocolError as exc:  # anything else fails the test
        refused = exc
    event("refused" if refused is not None else "loaded")
    if refused is not None:
        assert type(refused) is ProtocolError
        assert refused.problems
        return
    for session in SESSIONS:
        check_session(session, protocol)
    check_course(COURSE, protocol)


# Independent mistakes in a clinic's copy of esketamine-trd, each reported at exactly one path.
Mistake = Callable[[Data], str]


def _set(*where: Any, value: Any, path: str) -> Mistake:
    def apply(data: Data) -> str:
        node: Any = data
        for step in where[:-1]:
            node = node.setdefault(step, {}) if isinstance(step, str) else node[step]
        node[where[-1]] = value
        return path

    return apply


def _append_entry(keys: Data, key: str) -> Mistake:
    def apply(data: Data) -> str:
        data["doses"].append(keys)
        return f"$.doses[{len(data['doses']) - 1}].{key}"

    return apply


MISTAKES: dict[str, Mistake] = {
    "unknown top-level key": _set("colour", value="blue", path="$.colour"),
    "sources not a list": _set("sources", value="Spravato PI", path="$.sources"),
    "reference_only not a flag": _set("reference_only", value="yes", path="$.reference_only"),
    "unknown rule set": _set(
        "ruleset", value={"id": "no-such-rules", "version": "1"}, path="clinic-esk@1:$.ruleset"
    ),
    "unknown template": _set(
        "template", value={"id": "no-such-plan", "version": "1"}, path="clinic-esk@1:$.template"
    ),
    "unknown dose key": _set("doses", 0, "colour", value="blue", path="$.doses[0].colour"),
    "first session above session": _set(
        "doses", 0, "first_session_max", value="112 mg", path="$.doses[0].first_session_max"
    ),
    "device spacing too long": _set(
        "doses", 0, "device_spacing", "value", value="1e30 min", path="$.doses[0].device_spacing"
    ),
    "max_rate on a nasal spray": _set(
        "doses", 0, "max_rate", value="1 mg/min", path="$.doses[0].max_rate"
    ),
    "negative tolerance": _set(
        "monitoring",
        "recheck",
        "tolerance",
        value="-1 min",
        path="$.monitoring.recheck.tolerance",
    ),
    "observation too long": _set(
        "monitoring",
        "min_observation",
        "value",
        value="1e12 wk",
        path="$.monitoring.min_observation.value",
    ),
    "threshold upside down": _set(
        "monitoring",
        "bp_threshold",
        "value",
        value=["90 mm[Hg]", "140 mm[Hg]"],
        path="$.monitoring.bp_threshold.value",
    ),
    "unknown monitoring key": _set(
        "monitoring", "oximeter", value=True, path="$.monitoring.oximeter"
    ),
    "interval too long": _set(
        "schedule", "min_interval", value="1e30 d", path="$.schedule.min_interval"
    ),
    "session below per administration": _append_entry(
        {"route": "intravenous", "per_administration_max": "20 mg", "session_max": "10 mg"},
        "session_max",
    ),
    "devices on an injection": _append_entry(
        {"route": "intramuscular", "max_devices": 2}, "max_devices"
    ),
}


def clinic_copy() -> Data:
    """esketamine-trd as a clinic's own protocol (its own id, so it shadows no built-in)."""
    data = copy.deepcopy(BUILTIN["esketamine-trd"])
    data.update(id="clinic-esk", reference_only=False)
    return data


def test_the_clinic_copy_loads() -> None:
    """Without mistakes the clinic's copy loads: every problem below is the mistake's own."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.json"
        path.write_text(json.dumps(clinic_copy()), encoding="utf-8")
        assert "clinic-esk" == load_protocol(path).id


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(sorted(MISTAKES)), min_size=1, unique=True))
def test_every_independent_problem_is_reported_at_once(names: list[str]) -> None:
    """However many independent mistakes a file holds, load_protocol reports each, and only them."""
    data = clinic_copy()
    expected = {MISTAKES[name](data) for name in names}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        with pytest.raises(ProtocolError) as info:
            load_protocol(path)
    found = [p for p, _ in info.value.problems]
    assert sorted(expected) == sorted(found)


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_each_mistake_alone_is_one_problem(name: str) -> None:
    """Each mistake of the property above is, on its own, exactly one problem at its path."""
    data = clinic_copy()
    expected = MISTAKES[name](data)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        with pytest.raises(ProtocolError) as info:
            load_protocol(path)
    assert [expected] == [p for p, _ in info.value.problems]
