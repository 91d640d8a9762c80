"""What screening reports: the decision, the findings per rule, what was missing."""

from __future__ import annotations

import datetime as dt
import enum
import types
from collections.abc import Iterable, Mapping
from typing import Any, get_type_hints

import attrs

from kapproto.exceptions import KapprotoError, ValidationError
from kapproto.screening._catalogue import FactValue
from kapproto.screening._model import Rule, RuleSeverity
from kapproto.serialization import register_document, register_hooks
from kapproto.units import get_registry, quantity, to_ucum

__all__ = [
    "Decision",
    "Outcome",
    "RuleSetRef",
    "ScreeningFinding",
    "ScreeningReport",
    "decide",
]


class Decision(enum.Enum):
    """The outcome of screening a candidate against a rule set.

    Decided in this order: any absolute rule matched -> ``INELIGIBLE``; else
    any absolute or relative rule undecidable (a fact it needs is unknown) ->
    ``INCOMPLETE``; else any relative rule matched -> ``REVIEW``; else
    ``ELIGIBLE``. Caution and info rules never change the decision.

    Example:
        >>> import json
        >>> from kapproto import get_ruleset, screen
        >>> facts = json.load(open("examples/screening/healthy-candidate.json"))
        >>> screen(facts, get_ruleset("ketamine-contraindications")).decision
        <Decision.ELIGIBLE: 'eligible'>
        >>> screen({"age": 42}, get_ruleset("ketamine-contraindications")).decision
        <Decision.INCOMPLETE: 'incomplete'>
    """

    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    REVIEW = "review"
    INCOMPLETE = "incomplete"


class Outcome(enum.Enum):
    """Why a rule appears in a report: it ``MATCHED``, or it is ``UNKNOWN`` (undecidable)."""

    MATCHED = "matched"
    UNKNOWN = "unknown"


@attrs.frozen
class RuleSetRef:
    """Which rule set (and version) a report was made with.

    Attributes:
        id: Rule-set id.
        version: Rule-set version.
    """

    id: str
    version: str

    def __str__(self) -> str:
        return f"{self.id}@{self.version}"


def _frozen_values(value: Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(value, types.MappingProxyType):
        return value
    return types.MappingProxyType(dict(value))


def _paths(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen
class ScreeningFinding:
    """One rule that matched or could not be decided.

    Attributes:
        rule_id: The rule's id in its rule set.
        severity: The rule's severity.
        title: The rule's title.
        source: The rule's source.
        outcome: ``MATCHED`` or ``UNKNOWN``.
        values: The known facts the rule read, by path (quantities as
            :class:`pint.Quantity` in their canonical unit): the values that
            decided it.
        missing: For an ``UNKNOWN`` outcome, the facts the rule read that are
            unknown; empty for a match.

    Example:
        >>> import json
        >>> from kapproto import get_ruleset, screen
        >>> facts = json.load(open("examples/screening/healthy-candidate.json"))
        >>> report = screen({**facts, "pregnant": True}, get_ruleset("ketamine-contraindications"))
        >>> finding = report.findings[0]
        >>> finding.rule_id, finding.severity, finding.outcome.value
        ('pregnancy', <RuleSeverity.RELATIVE: 'relative'>, 'matched')
    """

    rule_id: str
    severity: RuleSeverity
    title: str
    source: str
    outcome: Outcome
    values: Mapping[str, FactValue] = attrs.field(
        factory=dict, converter=_frozen_values, hash=False
    )
    missing: tuple[str, ...] = attrs.field(default=(), converter=_paths)


def _findings(value: Iterable[ScreeningFinding]) -> tuple[ScreeningFinding, ...]:
    return tuple(value)


def decide(findings: Iterable[ScreeningFinding]) -> Decision:
    """The decision that a report's findings call for (the decision procedure).

    Only matched and undecidable rules appear as findings, and only they can
    change the decision, so the findings alone decide it.
    """
    absolute = unknown = relative = False
    for f in findings:
        if f.severity is RuleSeverity.ABSOLUTE and f.outcome is Outcome.MATCHED:
            absolute = True
        elif f.severity.decides and f.outcome is Outcome.UNKNOWN:
            unknown = True
        elif f.severity is RuleSeverity.RELATIVE:
            relative = True
    if absolute:
        return Decision.INELIGIBLE
    if unknown:
        return Decision.INCOMPLETE
    return Decision.REVIEW if relative else Decision.ELIGIBLE


def _aware(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, dt.datetime) or value.utcoffset() is None):
        raise ValidationError(
            f"{attribute.name}={value!r} must be a timezone-aware datetime or None",
            path=f"$.{attribute.name}",
        )


@register_document("screening_report", 1)
@attrs.frozen
class ScreeningReport:
    """The result of screening one candidate's facts against a rule set.

    Attributes:
        decision: Eligible, ineligible, review or incomplete.
        findings: Every rule that matched or could not be decided, in the
            rule set's order.
        missing: Fact paths that absolute or relative rules needed but were
            unknown, in rule order. Non-empty exactly when some such rule was
            undecidable: always for ``INCOMPLETE``, possibly for ``INELIGIBLE``.
        ruleset: The rule set's id and version.
        time: When the screening was done (timezone-aware), or ``None`` if
            not given. A course check uses it to tell whether screening came
            before the first dosing session.

    Raises:
        ValidationError: A naive ``time``, or a ``decision`` that the
            findings do not call for (a malformed report).

    Example:
        >>> import json
        >>> from kapproto import get_ruleset, screen
        >>> facts = json.load(open("examples/screening/healthy-candidate.json"))
        >>> report = screen({**facts, "pregnant": True}, get_ruleset("ketamine-contraindications"))
        >>> report.decision, [f.rule_id for f in report.findings], report.missing
        (<Decision.REVIEW: 'review'>, ['pregnancy'], ())
    """

    decision: Decision
    findings: tuple[ScreeningFinding, ...] = attrs.field(converter=_findings)
    missing: tuple[str, ...] = attrs.field(converter=_paths)
    ruleset: RuleSetRef
    time: dt.datetime | None = attrs.field(default=None, validator=_aware)

    def __attrs_post_init__(self) -> None:
        expected = decide(self.findings)
        if self.decision is not expected:
            raise ValidationError(
                f"decision {self.decision.value!r} does not follow from the findings, "
                f"which call for {expected.value!r}",
                path="$.decision",
            )

    @property
    def eligible(self) -> bool:
        """Whether the decision is ``ELIGIBLE``."""
        return self.decision is Decision.ELIGIBLE


def _trusted_report(
    decision: Decision,
    findings: tuple[ScreeningFinding, ...],
    missing: tuple[str, ...],
    ruleset: RuleSetRef,
    time: dt.datetime | None,
) -> ScreeningReport:
    """Build a report whose parts were made by :func:`screen` (no re-validation)."""
    report = object.__new__(ScreeningReport)
    object.__setattr__(report, "decision", decision)
    object.__setattr__(report, "findings", findings)
    object.__setattr__(report, "missing", missing)
    object.__setattr__(report, "ruleset", ruleset)
    object.__setattr__(report, "time", time)
    return report


def _trusted_finding(
    rule: Rule, outcome: Outcome, values: dict[str, Any], missing: tuple[str, ...]
) -> ScreeningFinding:
    """Build a finding from a checked rule and its fact values (no re-validation)."""
    found = object.__new__(ScreeningFinding)
    for name, value in (
        ("rule_id", rule.id),
        ("severity", rule.severity),
        ("title", rule.title),
        ("source", rule.source),
        ("outcome", outcome),
        ("values", types.MappingProxyType(values)),
        ("missing", missing),
    ):
        object.__setattr__(found, name, value)
    return found


def _value_json(value: Any) -> Any:
    if isinstance(value, bool | int | float | str):
        return value
    mag, code = to_ucum(value)
    return {"value": mag, "unit": code}


def _value_from_json(value: object) -> FactValue:
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping) and set(value) == {"value", "unit"}:
        try:
            return quantity(value["value"], value["unit"])
        except KapprotoError as exc:
            raise ValidationError(problems=exc.problems) from None
    if isinstance(value, get_registry().Quantity):
        return value
    raise ValidationError(
        f"expected a fact value (true/false, a number, a string or a quantity), got {value!r}"
    )


def _hooks(conv: Any) -> None:
    def structure_values(value: object, _: object) -> Mapping[str, FactValue]:
        if not isinstance(value, Mapping):
            raise ValidationError(f"expected a mapping of fact path to value, got {value!r}")
        problems: list[tuple[str, str]] = []
        out: dict[str, FactValue] = {}
        for path, v in value.items():
            try:
                out[str(path)] = _value_from_json(v)
            except ValidationError as exc:
                problems.extend((f"$[{str(path)!r}]", m) for _p, m in exc.problems)
        if problems:
            raise ValidationError(problems=problems)
        return out

    values_type = get_type_hints(ScreeningFinding)["values"]
    conv.register_structure_hook_func(lambda t: t == values_type, structure_values)
    conv.register_unstructure_hook_func(
        lambda t: t == values_type, lambda v: {p: _value_json(x) for p, x in v.items()}
    )


register_hooks(_hooks)
