"""Tests for kapproto._template_reader: the template file format and its errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapproto import PlanAnchor, PlanTemplate, ProtocolError, StepKind, StepWindow
from kapproto._params import Confidence
from kapproto.testing import json_values, plan_templates
from kapproto.units import quantity

GOOD: dict[str, Any] = {
    "id": "clinic-kap-3",
    "version": "1",
    "title": "Three KAP sessions with integration",
    "source": "Clinic SOP",
    "steps": [
        {
            "id": "prep",
            "title": "Preparation",
            "kind": "preparation",
            "anchor": "course_start",
            "before": ["14 d", "1 d"],
            "duration": "90 min",
            "instruments": ["phq9", "gad7"],
        },
        {
            "id": "integrate",
            "title": "Integration",
            "kind": "integration",
            "anchor": "each_dosing",
            "after": ["24 h", "72 h"],
            "duration": "60 min",
            "prompts": ["What stood out?", "What would you like to carry into the week?"],
            "source": "Clinic SOP 2026-01",
            "confidence": "design",
        },
    ],
}


def _with(step: int, **changes: object) -> dict[str, Any]:
    data = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is None:
            data["steps"][step].pop(key, None)
        else:
            data["steps"][step][key] = value
    return data


def _problems(data: object) -> list[tuple[str, str]]:
    with pytest.raises(ProtocolError) as info:
        PlanTemplate.from_dict(data)  # type: ignore[arg-type]
    return [tuple(p) for p in info.value.problems]  # type: ignore[misc]


def test_design_example_loads() -> None:
    """DESIGN.md's example template loads with every field in place."""
    template = PlanTemplate.from_dict(GOOD)
    prep, integrate = template.steps
    assert (StepKind.PREPARATION, PlanAnchor.COURSE_START) == (prep.kind, prep.anchor)
    assert StepWindow.before("14 d", "1 d") == prep.window
    assert quantity("90 min") == prep.duration
    assert ("phq9", "gad7") == prep.instruments
    assert StepWindow.after("24 h", "72 h") == integrate.window
    assert (True, "Clinic SOP 2026-01", Confidence.DESIGN) == (
        integrate.required,
        integrate.source,
        integrate.confidence,
    )


def test_every_problem_is_reported_at_once_with_step_ids() -> None:
    """Two bad steps and a bad top-level key give every problem in one error."""
    data = _with(0, kind="dosing", instruments=["phq10"])
    data["steps"][1]["anchor"] = "each_session"
    data["colour"] = "blue"
    problems = _problems(data)
    assert (
        "$.colour",
        "unknown key 'colour'; expected one of id, version, title, source, steps",
    ) in problems
    assert (
        "$.steps[0].kind",
        "step 'prep': 'dosing' is not a valid kind; expected one of 'preparation', 'integration', "
        "'assessment', 'follow_up'",
    ) in problems
    assert any(
        p == "$.steps[0].instruments[0]" and m.startswith("step 'prep': unknown instrument 'phq10'")
        for p, m in problems
    )
    assert any(
        p == "$.steps[1].anchor" and "step 'integrate': 'each_session' is not a valid anchor" in m
        for p, m in problems
    )
    assert 4 == len(problems)


@pytest.mark.parametrize(
    ("step", "changes", "path", "message"),
    [
        (1, {"after": ["72 h", "24 h"]}, "$.steps[1].after", "starts after it ends"),
        (0, {"before": ["1 d", "14 d"]}, "$.steps[0].before", "starts after it ends"),
        (1, {"after": None}, "$.steps[1].after", "give exactly one window"),
        (1, {"before": ["1 h", "0 h"]}, "$.steps[1].after", "give exactly one window"),
        (1, {"after": "24 h"}, "$.steps[1].after", "expected [from, to]"),
        (1, {"kind": "integation"}, "$.steps[1].kind", "'integation' is not a valid kind"),
        (1, {"anchor": None}, "$.steps[1].anchor", "required key is missing"),
        (0, {"instruments": ["phq10"]}, "$.steps[0].instruments[0]", "unknown instrument"),
        (0, {"instruments": "phq9"}, "$.steps[0].instruments", "expected a list of str"),
        (1, {"every": 2}, "$.steps[1].every", None),
        (0, {"every": 2}, "$.steps[0].every", "needs anchor 'each_dosing'"),
        (1, {"every": "2"}, "$.steps[1].every", "expected int"),
        (1, {"every": True}, "$.steps[1].every", "expected int"),
        (1, {"doses": [0]}, "$.steps[1].doses", "distinct whole numbers"),
        (1, {"required": "yes"}, "$.steps[1].required", "expected bool"),
        (1, {"duration": "60 mg"}, "$.steps[1].duration", "DURATION"),
        (1, {"duration": 60}, "$.steps[1].duration", "bare number"),
        (1, {"confidence": "high"}, "$.steps[1].confidence", "not one of"),
        (1, {"title": ""}, "$.steps[1].title", "expected a non-empty string"),
        (1, {"prompt": ["x"]}, "$.steps[1].prompt", "unknown key 'prompt'"),
        (1, {"id": "prep"}, "$.steps[1].id", "duplicate step id 'prep'"),
    ],
)
def test_bad_step_is_reported_with_path_and_step_id(
    step: int, changes: dict[str, object], path: str, message: str | None
) -> None:
    """Each bad value is reported at its path, prefixed with the step id."""
    data = _with(step, **changes)
    if message is None:  # a valid change: the file loads
        assert 2 == PlanTemplate.from_dict(data).steps[1].every
        return
    problems = _problems(data)
    step_id = data["steps"][step]["id"]
    assert any(
        p == path and message in m and (m.startswith(f"step {step_id!r}: ") or "duplicate" in m)
        for p, m in problems
    ), problems


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({**GOOD, "steps": []}, "$.steps"),
        ({**GOOD, "steps": ["prep"]}, "$.steps[0]"),
        ({k: v for k, v in GOOD.items() if k != "source"}, "$.source"),
        ({**GOOD, "version": 1}, "$.version"),
    ],
)
def test_bad_template_is_reported(data: dict[str, Any], path: str) -> None:
    """Top-level problems carry their path."""
    assert path in [p for p, _ in _problems(data)]


def test_not_a_table_is_refused() -> None:
    """A list is not a template."""
    assert "a template must be a table/object" in _problems([1, 2])[0][1]


def test_custom_instrument_ids() -> None:
    """A catalogue's own instrument ids are accepted when passed; others still refused."""
    data = _with(0, instruments=["clinic_intake"])
    template = PlanTemplate.from_dict(data, instruments={"clinic_intake", "phq9"})
    assert ("clinic_intake",) == template.steps[0].instruments
    with pytest.raises(ProtocolError) as info:
        PlanTemplate.from_dict(_with(0, instruments=["gad7"]), instruments={"clinic_intake"})
    assert "unknown instrument 'gad7'; known: clinic_intake" in str(info.value)


@given(plan_templates())
def test_to_dict_round_trips(template: PlanTemplate) -> None:
    """from_dict(t.to_dict()) == t for any valid template."""
    assert template == PlanTemplate.from_dict(template.to_dict())


@settings(max_examples=300)
@given(
    st.one_of(
        json_values(),
        st.dictionaries(st.sampled_from(list(GOOD)), json_values(max_leaves=8)),
        st.builds(
            lambda step, key, value: {**GOOD, "steps": [{**GOOD["steps"][step], key: value}]},
            st.integers(0, 1),
            st.sampled_from([*GOOD["steps"][1], "before", "every", "doses", "required"]),
            json_values(max_leaves=5),
        ),
    )
)
def test_any_json_gives_a_template_or_a_protocol_error(data: object) -> None:
    """Arbitrary input never raises anything but ProtocolError."""
    try:
        PlanTemplate.from_dict(data)  # type: ignore[arg-type]
    except ProtocolError as exc:
        problems = exc.problems
    else:
        problems = (("", "loaded"),)
    assert problems
