"""Protocols: the built-in reference protocols and the protocol file format's checks."""

from __future__ import annotations

import contextlib
import copy
import json
import tomllib
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapproto import Protocol
from kapproto._catalog import Catalog
from kapproto._data import read_document
from kapproto._params import Parameter
from kapproto._protocols import Anchor
from kapproto.exceptions import KapprotoError, ProtocolError

PROTOCOLS = Path(__file__).resolve().parent.parent / "src" / "kapproto" / "data" / "protocols"
BUILTIN_IDS = [
    "esketamine-mdsi",
    "esketamine-trd",
    "im-kap",
    "iv-racemic-standard",
    "sc-racemic",
    "sl-kap",
]

Data = dict[str, Any]


def raw(protocol_id: str) -> Data:
    """The parsed TOML of a built-in protocol file."""
    with (PROTOCOLS / f"{protocol_id}.toml").open("rb") as f:
        return tomllib.load(f)


def parameters(protocol: Protocol) -> dict[str, Parameter[Any]]:
    """Every configured parameter of a protocol, by its dotted name."""
    found: dict[str, Parameter[Any]] = {}
    parts: list[tuple[str, Any]] = [
        *((f"doses[{i}]", d) for i, d in enumerate(protocol.doses)),
        ("monitoring", protocol.monitoring),
        ("schedule", protocol.schedule),
    ]
    for prefix, part in parts:
        for field in attrs.fields(type(part)):
            value = getattr(part, field.name)
            if isinstance(value, Parameter):
                found[f"{prefix}.{field.name}"] = value
    return found


def problems(data: Any) -> dict[str, str]:
    """The problems, by path, that loading ``data`` as a protocol reports."""
    with pytest.raises(ProtocolError) as info:
        Protocol.from_dict(data)
    return dict(info.value.problems)


# ---------------------------------------------------------------------------
# Built-in protocols
# ---------------------------------------------------------------------------


def test_builtin_protocol_ids() -> None:
    """The six DESIGN.md protocols ship, each at version 1, one file per protocol."""
    keys = sorted(Catalog.builtin().protocols.entries)
    assert [(i, "1") for i in BUILTIN_IDS] == keys
    assert BUILTIN_IDS == sorted(p.stem for p in PROTOCOLS.glob("*.toml"))


@pytest.mark.parametrize("protocol_id", BUILTIN_IDS)
def test_builtin_protocol_loads_and_is_reference_only(protocol_id: str) -> None:
    """Each built-in protocol loads from its file, is marked reference-only and cites sources."""
    protocol = Protocol.from_dict(raw(protocol_id))
    assert (protocol_id, "1", True) == (protocol.id, protocol.version, protocol.reference_only)
    assert protocol.sources
    assert protocol.doses
    assert protocol == Catalog.builtin().protocol(protocol_id)


@pytest.mark.parametrize("protocol_id", BUILTIN_IDS)
def test_every_builtin_number_has_a_source(protocol_id: str) -> None:
    """Every parameter a built-in protocol sets has a source and a confidence."""
    found = parameters(Catalog.builtin().protocol(protocol_id))
    assert found
    unsourced = sorted(name for name, p in found.items() if not p.source.strip())
    no_confidence = sorted(name for name, p in found.items() if p.confidence is None)
    assert ([], []) == (unsourced, no_confidence)


@pytest.mark.parametrize("protocol_id", BUILTIN_IDS)
def test_builtin_references_resolve(protocol_id: str) -> None:
    """A built-in protocol's rule set and template are in the built-in catalogue."""
    catalog = Catalog.builtin()
    protocol = catalog.protocol(protocol_id)
    assert protocol.ruleset is not None
    assert protocol.ruleset.id == catalog.ruleset(protocol.ruleset.id, protocol.ruleset.version).id
    if protocol.template is not None:
        template = catalog.template(protocol.template.id, protocol.template.version)
        assert protocol.template.id == template.id


def test_esketamine_trd_encodes_the_label() -> None:
    """esketamine-trd: 28 mg devices, at most 3, 5 min apart, 56 mg on day 1, 84 mg a session."""
    (doses,) = Catalog.builtin().protocol("esketamine-trd").doses
    assert doses.device_amount is not None
    assert doses.max_devices is not None
    assert doses.device_spacing is not None
    assert (28.0, 3, 5.0) == (
        doses.device_amount.value.magnitude,
        doses.max_devices.value,
        doses.device_spacing.value.magnitude,
    )
    assert doses.first_session_max is not None
    assert doses.session_max is not None
    assert doses.first_session_max.value.fixed is not None
    assert doses.session_max.value.fixed is not None
    assert (56.0, 84.0) == (
        doses.first_session_max.value.fixed.magnitude,
        doses.session_max.value.fixed.magnitude,
    )


def test_monitoring_parameters_are_typed() -> None:
    """Monitoring values are typed: a BP threshold, an anchored recheck and observation."""
    m = Catalog.builtin().protocol("esketamine-trd").monitoring
    assert m.bp_threshold is not None
    assert m.recheck is not None
    assert m.min_observation is not None
    assert "140/90 mmHg" == str(m.bp_threshold.value)
    assert (40.0, 10.0, Anchor.LAST_ADMINISTRATION_START) == (
        m.recheck.value.at.magnitude,
        m.recheck.value.tolerance.magnitude,
        m.recheck.value.anchor,
    )
    assert (120.0, Anchor.LAST_ADMINISTRATION_START) == (
        m.min_observation.value.duration.magnitude,
        m.min_observation.value.anchor,
    )


def test_iv_observation_anchors_at_infusion_end() -> None:
    """For an infusion the observation time runs from the end of the last administration."""
    m = Catalog.builtin().protocol("iv-racemic-standard").monitoring
    assert m.min_observation is not None
    assert Anchor.LAST_ADMINISTRATION_END is m.min_observation.value.anchor


def test_bp_threshold_is_exceeded_by_either_value() -> None:
    """A reading is above 140/90 if its systolic or its diastolic is above."""
    m = Catalog.builtin().protocol("im-kap").monitoring
    assert m.bp_threshold is not None
    threshold = m.bp_threshold.value
    assert [False, True, True, False] == [
        threshold.exceeded_by(140, 90),
        threshold.exceeded_by(141, 80),
        threshold.exceeded_by(120, 91),
        threshold.exceeded_by(140.4, 90.4),
    ]


# ---------------------------------------------------------------------------
# Bad protocol files
# ---------------------------------------------------------------------------


def test_bare_values_are_allowed() -> None:
    """A clinic may give bare values; they load with no source or confidence."""
    data = raw("esketamine-trd")
    data["monitoring"]["predose_bp"] = True
    data["doses"][0]["max_devices"] = 3
    protocol = Protocol.from_dict(data)
    assert protocol.monitoring.predose_bp is not None
    assert ("", None) == (
        protocol.monitoring.predose_bp.source,
        protocol.monitoring.predose_bp.confidence,
    )


def test_every_problem_is_reported_at_once() -> None:
    """Unknown keys, bad anchors, a bad threshold and a duplicate entry are all reported together."""
    data = raw("esketamine-trd")
    data["colour"] = "blue"
    data["monitoring"]["oximeter"] = True
    data["monitoring"]["recheck"]["anchor"] = "dose"
    data["monitoring"]["min_observation"]["anchor"] = "lunch"
    data["monitoring"]["bp_threshold"]["value"] = ["90 mm[Hg]", "140 mm[Hg]"]
    data["schedule"] = {"max_interval": "1 d"}
    data["doses"].append(copy.deepcopy(data["doses"][0]))
    found = problems(data)
    assert {
        "$.colour",
        "$.monitoring.oximeter",
        "$.monitoring.recheck.anchor",
        "$.monitoring.min_observation.anchor",
        "$.monitoring.bp_threshold.value",
        "$.schedule.max_interval",
        "$.doses[1]",
    } == set(found)
    assert "unknown key 'colour'" in found["$.colour"]
    assert "'dose' is not an anchor" in found["$.monitoring.recheck.anchor"]
    assert "diastolic" in found["$.monitoring.bp_threshold.value"]
    assert "$.doses[0]" in found["$.doses[1]"]


@pytest.mark.parametrize("tolerance", ["40 min", "1 h"])
def test_tolerance_must_be_shorter_than_the_recheck_time(tolerance: str) -> None:
    """A recheck tolerance equal to or longer than the recheck time is refused."""
    data = raw("im-kap")
    data["monitoring"]["recheck"]["tolerance"] = tolerance
    assert "shorter" in problems(data)["$.monitoring.recheck.tolerance"]


@pytest.mark.parametrize("threshold", [["140 mm[Hg]", "140 mm[Hg]"], ["90 mm[Hg]", "140 mm[Hg]"]])
def test_diastolic_threshold_must_be_below_systolic(threshold: list[str]) -> None:
    """A diastolic threshold equal to or above the systolic one is refused."""
    data = raw("im-kap")
    data["monitoring"]["bp_threshold"]["value"] = threshold
    assert "diastolic" in problems(data)["$.monitoring.bp_threshold.value"]


@pytest.mark.parametrize("doses", [None, []])
def test_a_protocol_needs_doses(doses: list[Any] | None) -> None:
    """A protocol with no [[doses]] entry is refused."""
    data = raw("im-kap")
    if doses is None:
        del data["doses"]
    else:
        data["doses"] = doses
    assert "[[doses]]" in problems(data)["$.doses"]


def test_duplicate_medication_and_route_is_refused() -> None:
    """Two [[doses]] entries for one medication by one route are refused, naming the first."""
    data = raw("sl-kap")
    data["doses"][1]["route"] = "sublingual"
    found = problems(data)
    assert ["$.doses[1]"] == list(found)
    assert "ketamine by sublingual" in found["$.doses[1]"]


def test_same_route_for_two_medications_is_allowed() -> None:
    """Ketamine and esketamine may each have an entry for the same route."""
    data = raw("esketamine-trd")
    data["doses"].append({"medication": "ketamine", "route": "intranasal", "session_max": "50 mg"})
    assert 2 == len(Protocol.from_dict(data).doses)


@pytest.mark.parametrize(
    ("key", "value", "path"),
    [
        ("id", "", "$.id"),
        ("version", 1, "$.version"),
        ("title", None, "$.title"),
        ("sources", "Spravato PI", "$.sources"),
        ("reference_only", "yes", "$.reference_only"),
        ("ruleset", "ketamine-contraindications", "$.ruleset"),
        ("template", {"id": "kap-weekly-3"}, "$.template"),
        ("monitoring", ["predose_bp"], "$.monitoring"),
        ("schedule", "weekly", "$.schedule"),
    ],
)
def test_bad_top_level_values_name_their_path(key: str, value: Any, path: str) -> None:
    """Each malformed top-level value is reported at its path."""
    data = raw("im-kap")
    data[key] = value
    assert path in problems(data)


@pytest.mark.parametrize(
    ("key", "value", "path"),
    [
        ("predose_bp", "yes", "$.monitoring.predose_bp"),
        (
            "recheck",
            {"at": "forty", "anchor": "first_administration_start"},
            "$.monitoring.recheck.at",
        ),
        (
            "recheck",
            {"at": "40 mg", "anchor": "first_administration_start"},
            "$.monitoring.recheck.at",
        ),
        (
            "recheck",
            {"at": "-5 min", "anchor": "first_administration_start"},
            "$.monitoring.recheck.at",
        ),
        (
            "recheck",
            {"tolerance": "5 min", "anchor": "first_administration_start"},
            "$.monitoring.recheck.at",
        ),
        ("recheck", {"at": "40 min"}, "$.monitoring.recheck.anchor"),
        ("min_observation", {"value": "2 h"}, "$.monitoring.min_observation.anchor"),
        (
            "min_observation",
            {"value": 120, "anchor": "last_administration_start"},
            "$.monitoring.min_observation",
        ),
        ("bp_threshold", ["140 mm[Hg]"], "$.monitoring.bp_threshold"),
        ("bp_threshold", ["140 mg", "90 mg"], "$.monitoring.bp_threshold"),
    ],
)
def test_bad_monitoring_values_name_their_path(key: str, value: Any, path: str) -> None:
    """Each malformed monitoring parameter is reported at (or under) its path."""
    data = raw("im-kap")
    data["monitoring"][key] = value
    assert any(p.startswith(path) for p in problems(data)), problems(data)


def test_schedule_min_interval_loads_as_a_duration() -> None:
    """`[schedule] min_interval` is a duration held in minutes."""
    data = raw("im-kap")
    data["schedule"] = {
        "min_interval": {"value": "7 d", "source": "Clinic SOP", "confidence": "design"}
    }
    interval = Protocol.from_dict(data).schedule.min_interval
    assert interval is not None
    assert (7 * 24 * 60, "Clinic SOP") == (interval.value.magnitude, interval.source)


def test_unset_parameters_are_none() -> None:
    """A parameter the file leaves out is None (not configured), never a default value."""
    data = raw("im-kap")
    del data["monitoring"]
    protocol = Protocol.from_dict(data)
    assert (None, None, None) == (
        protocol.monitoring.predose_bp,
        protocol.monitoring.min_observation,
        protocol.schedule.min_interval,
    )


def test_a_protocol_must_be_a_table() -> None:
    """A list where a protocol belongs is refused."""
    with pytest.raises(ProtocolError, match="table"):
        Protocol.from_dict([])  # type: ignore[arg-type]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(deadline=None)  # the first example reads reference data files
@given(
    st.dictionaries(
        st.sampled_from(
            ["id", "version", "title", "sources", "doses", "monitoring", "schedule", "ruleset"]
        ),
        json_values,
    )
)
def test_garbage_raises_only_protocol_error(data: Data) -> None:
    """Whatever the file holds, loading raises only ProtocolError, never a bare Python error."""
    with contextlib.suppress(ProtocolError):
        Protocol.from_dict(data)


@settings(deadline=None)  # the first example reads reference data files
@given(
    key=st.sampled_from(
        ["predose_bp", "bp_threshold", "recheck", "min_observation", "pulse_oximetry"]
    ),
    value=json_values,
)
def test_garbage_monitoring_value_raises_only_protocol_error(key: str, value: Any) -> None:
    """A monitoring parameter of any shape loads or raises ProtocolError with a path under it."""
    data = raw("esketamine-trd")
    data["monitoring"][key] = value
    paths: list[str] = []
    try:
        Protocol.from_dict(data)
    except ProtocolError as exc:
        paths = [p for p, _ in exc.problems]
    assert all(p.startswith(f"$.monitoring.{key}") for p in paths), paths


# ---------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------


def test_read_document_reads_toml_and_json(tmp_path: Path) -> None:
    """The same protocol loads from TOML and from JSON."""
    data = raw("esketamine-trd")
    (tmp_path / "p.json").write_text(json.dumps(data), encoding="utf-8")
    assert Protocol.from_dict(read_document(PROTOCOLS / "esketamine-trd.toml")) == (
        Protocol.from_dict(read_document(tmp_path / "p.json"))
    )


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.toml", "id = ", "not valid TOML"),
        ("bad.json", "{", "not valid JSON"),
        ("list.json", "[1, 2]", "must be a table"),
    ],
)
def test_read_document_refuses_unparsable_files(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    """A file that does not parse, or not to a table, is a ProtocolError."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProtocolError, match=message) as info:
        Protocol.from_dict(read_document(path))
    assert name in str(info.value) or "table" in str(info.value)


def test_read_document_missing_file(tmp_path: Path) -> None:
    """A missing file is a ProtocolError (a KapprotoError), not an OSError."""
    with pytest.raises(KapprotoError, match="cannot read"):
        read_document(tmp_path / "absent.toml")


# ---------------------------------------------------------------------------
# Durations the checks can compute with
# ---------------------------------------------------------------------------

TOO_LONG = "is longer than any human life; expected at most 150 a"


def at_path(data: Data, where: tuple[str | int, ...], value: Any) -> Data:
    """``data`` with the value at ``where`` (keys and list indices) replaced."""
    node: Any = data
    for step in where[:-1]:
        node = node.setdefault(step, {}) if isinstance(step, str) else node[step]
    node[where[-1]] = value
    return data


@pytest.mark.parametrize(
    ("where", "value", "path", "shown"),
    [
        (("monitoring", "recheck", "at"), "1e30 min", "$.monitoring.recheck.at", "'1e30 min'"),
        (
            ("monitoring", "recheck", "tolerance"),
            "200 a",
            "$.monitoring.recheck.tolerance",
            "'200 a'",
        ),
        (
            ("monitoring", "min_observation", "value"),
            "1e12 wk",
            "$.monitoring.min_observation.value",
            "'1e12 wk'",
        ),
        (("schedule", "min_interval"), "1e30 d", "$.schedule.min_interval", "'1e30 d'"),
        (("schedule", "min_interval"), "151 a", "$.schedule.min_interval", "'151 a'"),
        (
            ("doses", 0, "device_spacing", "value"),
            "1e30 min",
            "$.doses[0].device_spacing",
            "1e+30 min",
        ),
    ],
)
def test_durations_longer_than_a_life_are_refused(
    where: tuple[str | int, ...], value: str, path: str, shown: str
) -> None:
    """A duration no patient could live through is refused at its key, not left to overflow."""
    data = at_path(raw("esketamine-trd"), where, value)
    assert {path: f"{shown} {TOO_LONG}"} == problems(data)


def test_the_longest_durations_load_and_check() -> None:
    """Durations of up to 150 years load, and the checks compute with them without error."""
    from kapproto import Course, check_course, from_json

    data = raw("im-kap")
    data["monitoring"]["recheck"] = {
        "at": "149 a",
        "tolerance": "1 a",
        "anchor": "first_administration_start",
    }
    data["monitoring"]["min_observation"]["value"] = "150 a"
    data["schedule"] = {"min_interval": "150 a"}
    protocol = Protocol.from_dict(data)
    course = from_json(Path("examples/sessions/course.json").read_text(encoding="utf-8"), Course)
    report = check_course(course, protocol)
    assert {
        "monitoring.recheck_missing",
        "monitoring.observation_too_short",
        "schedule.interval_too_short",
    } <= set(report.codes())


def test_python_built_protocol_refuses_durations() -> None:
    """Built from Python, the same durations are refused, every one at once, each at its path."""
    from kapproto import Monitoring, Observation, Recheck, Schedule
    from kapproto.units import quantity

    anchor = Anchor.LAST_ADMINISTRATION_START
    monitoring = Monitoring(
        recheck=Parameter(Recheck(quantity("40 min"), quantity("-1 min"), anchor)),
        min_observation=Parameter(Observation(quantity("1e12 wk"), anchor)),
    )
    builtin = Catalog.builtin().protocol("im-kap")
    with pytest.raises(ProtocolError) as info:
        attrs.evolve(
            builtin, monitoring=monitoring, schedule=Schedule(Parameter(quantity("1e30 d")))
        )
    assert {
        "$.monitoring.recheck.tolerance": "expected a duration of zero or more, got -1 min",
        "$.monitoring.min_observation.value": f"1.008e+16 min {TOO_LONG}",
        "$.schedule.min_interval.value": f"1.44e+33 min {TOO_LONG}",
    } == dict(info.value.problems)


def test_python_built_durations_are_held_in_minutes() -> None:
    """A duration given in hours from Python is held in minutes, as the checks read it."""
    from kapproto import Observation, Recheck, Schedule
    from kapproto.units import quantity

    anchor = Anchor.LAST_ADMINISTRATION_START
    recheck = Recheck(quantity("1 h"), quantity("0.25 h"), anchor)
    observation = Observation(quantity("2 h"), anchor)
    schedule = Schedule(Parameter(quantity("7 d")))
    assert (60.0, 15.0, 120.0, 10080.0) == (
        recheck.at.magnitude,
        recheck.tolerance.magnitude,
        observation.duration.magnitude,
        schedule.min_interval.value.magnitude if schedule.min_interval else None,
    )
    assert "minute" == str(recheck.at.units)


def test_python_built_duration_of_another_kind_is_a_unit_error() -> None:
    """A mass where a duration belongs is a UnitError naming the field, from Python too."""
    from kapproto import Recheck, Schedule
    from kapproto.exceptions import UnitError
    from kapproto.units import quantity

    with pytest.raises(UnitError) as info:
        Recheck(quantity("40 mg"), quantity("0 min"), Anchor.LAST_ADMINISTRATION_START)
    assert ["$.at"] == [p for p, _ in info.value.problems]
    with pytest.raises(ProtocolError, match="expected a Parameter"):
        Schedule(quantity("7 d"))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# The recheck tolerance
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("recheck", [{}, {"tolerance": "0 min"}])
def test_recheck_tolerance_defaults_to_and_may_be_zero(recheck: Data) -> None:
    """Without a tolerance, or with tolerance 0, the recheck window is the instant itself."""
    data = raw("im-kap")
    data["monitoring"]["recheck"] = {
        "at": "40 min",
        "anchor": "last_administration_start",
        **recheck,
    }
    m = Protocol.from_dict(data).monitoring
    assert m.recheck is not None
    assert (40.0, 0.0) == (m.recheck.value.at.magnitude, m.recheck.value.tolerance.magnitude)


@pytest.mark.parametrize(
    ("at", "codes"), [("40 min", []), ("41 min", ["monitoring.recheck_missing"])]
)
def test_zero_tolerance_window_is_checked(at: str, codes: list[str]) -> None:
    """With tolerance 0 a reading exactly at the recheck time meets it, one a minute off does not."""
    from kapproto import Session, check_session, from_json

    data = raw("im-kap")
    data["monitoring"]["recheck"] = {"at": at, "anchor": "last_administration_start"}
    session = from_json(
        Path("examples/sessions/im-session.json").read_text(encoding="utf-8"), Session
    )
    report = check_session(session, Protocol.from_dict(data))
    assert codes == [c for c in report.codes() if c.startswith("monitoring.recheck")]


def test_negative_tolerance_is_refused() -> None:
    """A negative tolerance is refused at its path."""
    data = raw("im-kap")
    data["monitoring"]["recheck"]["tolerance"] = "-1 min"
    assert {
        "$.monitoring.recheck.tolerance": "expected a duration of zero or more, got '-1 min'"
    } == problems(data)


# ---------------------------------------------------------------------------
# Consistency between keys
# ---------------------------------------------------------------------------


def entry(**keys: Any) -> Data:
    """A protocol document with one [[doses]] entry of ``keys``."""
    return {"id": "p", "version": "1", "title": "P", "doses": [keys]}


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (
            {"route": "intramuscular", "session_max": "50 mg", "first_session_max": "60 mg"},
            {"$.doses[0].first_session_max": "first_session_max 60 mg is above session_max 50 mg"},
        ),
        (
            {
                "route": "intramuscular",
                "session_max": "0.5 mg/kg",
                "first_session_max": "0.6 mg/kg",
            },
            {
                "$.doses[0].first_session_max": "first_session_max 0.6 mg/kg is above session_max 0.5 mg/kg"
            },
        ),
        (
            {"route": "intramuscular", "per_administration_max": "60 mg", "session_max": "50 mg"},
            {"$.doses[0].session_max": "session_max 50 mg is below per_administration_max 60 mg"},
        ),
        (
            {
                "route": "intramuscular",
                "per_administration_max": ["60 mg", "0.5 mg/kg"],
                "session_max": ["100 mg", "0.4 mg/kg"],
            },
            {
                "$.doses[0].session_max": "session_max 0.4 mg/kg is below per_administration_max 0.5 mg/kg"
            },
        ),
        (
            {"route": "intramuscular", "min": "60 mg", "session_max": "50 mg"},
            {"$.doses[0].min": "min 60 mg is above session_max 50 mg"},
        ),
        (
            {"route": "intramuscular", "min": "0.5 mg/kg", "per_administration_max": "0.4 mg/kg"},
            {"$.doses[0].min": "min 0.5 mg/kg is above per_administration_max 0.4 mg/kg"},
        ),
        (
            {"route": "intramuscular", "max_rate": "1 mg/min"},
            {
                "$.doses[0].max_rate": "max_rate applies to infusions; intramuscular is not an "
                "infusion route (expected intravenous; data/routes.toml)"
            },
        ),
        (
            {"route": "intravenous", "device_amount": "28 mg", "max_devices": 3},
            {
                f"$.doses[0].{key}": f"{key} is set, but no formulation this entry allows is a "
                "device for ketamine by the intravenous route (devices and their amounts: "
                "data/formulations.toml)"
                for key in ("device_amount", "max_devices")
            },
        ),
        (
            {"route": "intranasal", "device_amount": "10 mg"},
            {
                "$.doses[0].device_amount": "device_amount is set, but no formulation this entry "
                "allows is a device for ketamine by the intranasal route (devices and their "
                "amounts: data/formulations.toml)"
            },
        ),
        (
            {
                "medication": "esketamine",
                "route": "intranasal",
                "formulations": ["solution_for_injection"],
                "device_spacing": "5 min",
                "device_amount": "28 mg",
            },
            {
                f"$.doses[0].{key}": f"{key} is set, but no formulation this entry allows is a "
                "device for esketamine by the intranasal route (devices and their amounts: "
                "data/formulations.toml)"
                for key in ("device_amount", "device_spacing")
            },
        ),
        (
            {"route": "intranasal", "max_devices": 2},
            {
                "$.doses[0].max_devices": "max_devices is set but no device amount is known for "
                "ketamine by intranasal; set device_amount"
            },
        ),
        (
            {"route": "sublingual", "formulations": ["nasal_spray_device"]},
            {
                "$.doses[0].formulations": "'nasal_spray_device' cannot go by the sublingual "
                "route (it goes by intranasal)"
            },
        ),
    ],
)
def test_dose_keys_that_contradict_each_other(keys: Data, expected: dict[str, str]) -> None:
    """Each contradiction inside a [[doses]] entry is refused at the key, with both values."""
    assert expected == problems(entry(**keys))


@pytest.mark.parametrize(
    "keys",
    [
        {"route": "intramuscular", "session_max": "50 mg", "first_session_max": "50 mg"},
        {"route": "intramuscular", "per_administration_max": "0.75 mg/kg", "session_max": "50 mg"},
        {"route": "intramuscular", "per_administration_max": "40 mg", "session_max": "1 mg/kg"},
        {"route": "intramuscular", "min": "50 mg", "session_max": "50 mg"},
        {"route": "intravenous", "max_rate": ["1 mg/min", "0.75 mg/kg/h"]},
        {"medication": "esketamine", "route": "intranasal", "device_amount": "14 mg"},
    ],
)
def test_consistent_dose_keys_load(keys: Data) -> None:
    """Equal limits, limits of different kinds, and device keys where a device exists all load."""
    assert 1 == len(Protocol.from_dict(entry(**keys)).doses)


@pytest.mark.parametrize(
    ("recheck", "observation", "expected"),
    [
        (
            {"at": "2 h", "anchor": "last_administration_start"},
            {"value": "2 h", "anchor": "last_administration_start"},
            {
                "$.monitoring.recheck.at": "the recheck at 120 min is not before the end of the "
                "minimum observation (120 min), both from the last administration start: the "
                "patient may leave before it"
            },
        ),
        (
            {"at": "3 h", "anchor": "first_administration_start"},
            {"value": "2 h", "anchor": "first_administration_start"},
            {
                "$.monitoring.recheck.at": "the recheck at 180 min is not before the end of the "
                "minimum observation (120 min), both from the first administration start: the "
                "patient may leave before it"
            },
        ),
        (
            {"at": "3 h", "anchor": "first_administration_start"},
            {"value": "2 h", "anchor": "last_administration_end"},
            {},
        ),
        (
            {"at": "119 min", "tolerance": "5 min", "anchor": "last_administration_start"},
            {"value": "2 h", "anchor": "last_administration_start"},
            {},
        ),
    ],
)
def test_recheck_must_come_before_the_end_of_observation(
    recheck: Data, observation: Data, expected: dict[str, str]
) -> None:
    """A recheck at or after the minimum observation from the same anchor is refused."""
    data = raw("im-kap")
    data["monitoring"]["recheck"] = recheck
    data["monitoring"]["min_observation"] = observation
    if expected:
        assert expected == problems(data)
    else:
        Protocol.from_dict(data)


def test_a_wrong_key_does_not_hide_the_contradictions_of_the_others() -> None:
    """An unknown key and a bad bound in an entry are reported with the contradictions of the rest."""
    found = problems(
        entry(
            route="intramuscular",
            colour="blue",
            formulations=["troche"],
            min="2 mg",
            per_administration_max="1 mg",
            session_max="0.5 mg",
            first_session_max=["1 mg", "2 mg"],
            max_rate="3 mg/min",
        )
    )
    assert [
        "$.doses[0].colour",
        "$.doses[0].first_session_max[1]",
        "$.doses[0].formulations",
        "$.doses[0].max_rate",
        "$.doses[0].min",
        "$.doses[0].session_max",
    ] == sorted(found)
    assert found["$.doses[0].min"] == "min 2 mg is above per_administration_max 1 mg"
    assert (
        found["$.doses[0].session_max"] == "session_max 0.5 mg is below per_administration_max 1 mg"
    )


@pytest.mark.parametrize(
    ("threshold", "message"),
    [
        (["0 mm[Hg]", "90 mm[Hg]"], "systolic 0 mm[Hg] is not a reading a patient can have"),
        (["1400 mm[Hg]", "90 mm[Hg]"], "systolic 1400 mm[Hg] is not a reading a patient can have"),
        (["140 mm[Hg]", "-90 mm[Hg]"], "diastolic -90 mm[Hg] is not a reading a patient can have"),
    ],
)
def test_bp_threshold_outside_possible_readings_is_refused(
    threshold: list[str], message: str
) -> None:
    """A BP threshold no reading can reach (data/vitals.toml) is refused as a typo."""
    data = raw("im-kap")
    data["monitoring"]["bp_threshold"] = threshold
    (found,) = problems(data).items()
    assert "$.monitoring.bp_threshold" == found[0]
    assert found[1].startswith(message), found[1]


@pytest.mark.parametrize("protocol_id", BUILTIN_IDS)
def test_builtin_protocols_are_consistent(protocol_id: str) -> None:
    """Every built-in protocol passes the consistency checks."""
    from kapproto._protocol_reader import consistency_problems

    protocol = Catalog.builtin().protocol(protocol_id)
    assert [] == consistency_problems(list(enumerate(protocol.doses)), protocol.monitoring)


# ---------------------------------------------------------------------------
# JSON protocol files are read strictly
# ---------------------------------------------------------------------------


def test_json_protocol_with_a_duplicate_key_or_nan_is_refused(tmp_path: Path) -> None:
    """A key given twice, or NaN, in a JSON protocol is refused at its path, naming the file."""
    text = json.dumps(raw("im-kap"))
    text = text.replace('"version": "1"', '"version": "1", "version": "2"', 1)
    text = text.replace('"reference_only": true', '"reference_only": NaN', 1)
    path = tmp_path / "p.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProtocolError) as info:
        read_document(path)
    assert [
        (
            "$.version",
            f"in {path}: duplicate key 'version' in a JSON object; each key may appear once",
        ),
        ("$.reference_only", f"in {path}: NaN is not valid JSON; numbers must be finite"),
    ] == [tuple(p) for p in info.value.problems]


def test_read_document_keeps_the_callers_error(tmp_path: Path) -> None:
    """A rule set's JSON is refused with the rule-set error, as its reader asks."""
    from kapproto.exceptions import RuleError

    path = tmp_path / "rules.json"
    path.write_text('{"id": "x", "id": "y"}', encoding="utf-8")
    with pytest.raises(RuleError) as info:
        read_document(path, error=RuleError)
    assert ["$.id"] == [p for p, _ in info.value.problems]


def test_a_route_no_formulation_goes_by_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the reference data had no formulation for a route, an entry for it is refused."""
    from kapproto._routes import Formulation, Route

    routes = {f: f.routes - {Route.ORAL} for f in Formulation}
    monkeypatch.setattr(Formulation, "allows", lambda self, route: route in routes[self])
    assert {
        "$.doses[0].route": "no formulation in the reference data goes by the oral route"
    } == problems(entry(route="oral", session_max="300 mg"))


@pytest.mark.parametrize(("key", "value"), [("id", "im\x1bkap"), ("version", "1\x00")])
def test_control_characters_in_id_or_version_are_refused(key: str, value: str) -> None:
    """An id or version a report cannot name is refused, from a file and from Python."""
    data = raw("im-kap")
    data[key] = value
    assert [f"$.{key}"] == list(problems(data))
    with pytest.raises(ProtocolError) as info:
        attrs.evolve(Catalog.builtin().protocol("im-kap"), **{key: value})
    assert [f"$.{key}"] == [p for p, _ in info.value.problems]


def test_reference_with_a_control_character_is_refused() -> None:
    """A rule set reference whose id has a control character is refused at its path."""
    data = raw("im-kap")
    data["ruleset"] = {"id": "rules\x07", "version": "1"}
    assert ["$.ruleset.id"] == list(problems(data))
