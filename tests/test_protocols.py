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
from hypothesis import given
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
