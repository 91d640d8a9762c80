"""The rule-set model: conditions and rules, and their dict (TOML/JSON) shape.

A condition is a small tree. Leaves test one fact (``eq ne gt ge lt le``,
``in``, ``present``); ``all``, ``any`` and ``not`` combine them. This module
reads and writes the tree's dict shape; typing values by their fact and
compiling the tree to closures is :mod:`kapproto.screening._compile`'s job.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal, TypeAlias

import attrs

from kapproto._params import Confidence
from kapproto.units import canonical_number, get_registry, to_ucum

__all__ = [
    "COMPARISONS",
    "MALFORMED",
    "OPERATORS",
    "AllOf",
    "AnyOf",
    "Comparison",
    "Condition",
    "Not",
    "OneOf",
    "Present",
    "Rule",
    "RuleSeverity",
    "condition_from_dict",
    "condition_to_dict",
    "facts_of",
    "json_value",
]

Op: TypeAlias = Literal["eq", "ne", "gt", "ge", "lt", "le"]

COMPARISONS: Final[tuple[str, ...]] = ("eq", "ne", "gt", "ge", "lt", "le")
"""The comparison operators, as written in a rule file."""

OPERATORS: Final[tuple[str, ...]] = ("all", "any", "not", *COMPARISONS, "in", "present")
"""Every operator a condition may use."""


class RuleSeverity(enum.Enum):
    """How a matched rule affects the screening decision.

    ``ABSOLUTE`` a contraindication: a match makes the candidate ineligible.
    ``RELATIVE`` a benefit/risk matter: a match needs clinician review.
    ``CAUTION`` an interaction or precaution: reported, never changes the decision.
    ``INFO`` reported only.

    An absolute or relative rule that cannot be decided (a fact it needs is
    unknown) makes the report incomplete; a caution or info rule never does.

    Example:
        >>> from kapproto import get_ruleset
        >>> rules = get_ruleset("ketamine-contraindications").rules
        >>> sorted({rule.severity.value for rule in rules})
        ['absolute', 'caution', 'relative']
    """

    ABSOLUTE = "absolute"
    RELATIVE = "relative"
    CAUTION = "caution"
    INFO = "info"

    @property
    def decides(self) -> bool:
        """Whether this severity can change the decision (absolute, relative)."""
        return self is RuleSeverity.ABSOLUTE or self is RuleSeverity.RELATIVE


def _values(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


def _parts(value: Iterable[Condition]) -> tuple[Condition, ...]:
    return tuple(value)


@attrs.frozen
class Comparison:
    """Compare a fact with a value: ``{ fact = "vitals.systolic", gt = "140 mm[Hg]" }``.

    Unknown when the fact is absent.

    Attributes:
        fact: Dotted fact path.
        op: ``"eq"``, ``"ne"``, ``"gt"``, ``"ge"``, ``"lt"`` or ``"le"``.
        value: The value, typed by the fact (a quantity for a quantity fact,
            held in its kind's canonical unit once the rule set is built).
    """

    fact: str
    op: Op
    value: Any


@attrs.frozen
class OneOf:
    """The fact is one of a list: ``{ fact = "hepatic.child_pugh", in = ["B", "C"] }``.

    Unknown when the fact is absent.

    Attributes:
        fact: Dotted fact path.
        values: The allowed values, typed by the fact.
    """

    fact: str
    values: tuple[Any, ...] = attrs.field(converter=_values)


@attrs.frozen
class Present:
    """Whether a fact is known: ``{ fact = "weight", present = true }``.

    Never unknown, and the one operator that is not monotone: adding a fact
    can turn it from true to false (``present = false``).

    Attributes:
        fact: Dotted fact path.
        present: ``True`` tests that the fact is known, ``False`` that it is not.
    """

    fact: str
    present: bool = True


@attrs.frozen
class AllOf:
    """Every part holds: false if any part is false, else unknown if any is unknown.

    Attributes:
        parts: The conditions, at least one.
    """

    parts: tuple[Condition, ...] = attrs.field(converter=_parts)


@attrs.frozen
class AnyOf:
    """Some part holds: true if any part is true, else unknown if any is unknown.

    Attributes:
        parts: The conditions, at least one.
    """

    parts: tuple[Condition, ...] = attrs.field(converter=_parts)


@attrs.frozen
class Not:
    """The part does not hold; unknown stays unknown.

    Attributes:
        part: The condition negated.
    """

    part: Condition


Condition: TypeAlias = Comparison | OneOf | Present | AllOf | AnyOf | Not
"""A condition tree node."""


class _Malformed:
    """Stands in for a condition that reading its dict shape already reported."""

    def __repr__(self) -> str:
        return "<malformed condition>"


MALFORMED: Final[Any] = _Malformed()
"""Placeholder for a condition already reported as malformed (not checked again)."""


@attrs.frozen
class Rule:
    """One screening rule.

    Attributes:
        id: Unique id within its rule set (``"bp-elevated"``).
        title: What a match means, for people.
        severity: How a match affects the decision.
        source: Where the rule comes from (label section, SOP, paper).
        when: The condition under which the rule matches.
        confidence: How sure the source of the rule's numbers is (``C``,
            ``S``, ``design``), or ``None`` when not stated.

    Example:
        >>> from kapproto import get_ruleset
        >>> rule = get_ruleset("ketamine-contraindications").rules[0]
        >>> rule.id, rule.severity
        ('aneurysmal-vascular-disease', <RuleSeverity.ABSOLUTE: 'absolute'>)
        >>> rule.source
        'Spravato PI §4 Contraindications (1)'
    """

    id: str
    title: str
    severity: RuleSeverity
    source: str
    when: Condition
    confidence: Confidence | None = None


# --------------------------------------------------------------------------
# dict shape
# --------------------------------------------------------------------------

Problems: TypeAlias = list[tuple[str, str]]


def _leaf_from_dict(
    raw: Mapping[str, Any], path: str, label: str, problems: Problems
) -> Condition | None:
    ops = [k for k in raw if k != "fact"]
    bad = [k for k in ops if k not in OPERATORS]
    for key in bad:
        problems.append(
            (
                f"{path}.{key}",
                f"{label}unknown operator {key!r}; expected one of {', '.join(OPERATORS)}",
            )
        )
    ops = [k for k in ops if k in OPERATORS]
    fact = raw["fact"]
    ok = True
    if not isinstance(fact, str) or not fact:
        problems.append((f"{path}.fact", f"{label}expected a dotted fact path, got {fact!r}"))
        ok = False
    if len(ops) != 1 or ops[0] in ("all", "any", "not"):
        if not bad or ops:
            problems.append(
                (
                    path,
                    f"{label}a fact test needs exactly one of {', '.join(OPERATORS[3:])}; got {sorted(raw)}",
                )
            )
        return None
    op = ops[0]
    value = raw[op]
    if op == "present":
        if not isinstance(value, bool):
            problems.append((f"{path}.present", f"{label}expected true or false, got {value!r}"))
            return None
        return Present(fact, value) if ok else None
    if op == "in":
        if not isinstance(value, list | tuple) or not value:
            problems.append(
                (f"{path}.in", f"{label}expected a non-empty list of values, got {value!r}")
            )
            return None
        return OneOf(fact, value) if ok else None
    return Comparison(fact, op, value) if ok else None  # type: ignore[arg-type]


def condition_from_dict(raw: object, path: str, label: str, problems: Problems) -> Condition | None:
    """Read a condition's dict shape; ``None`` (with problems added) if malformed.

    Values stay as written; they are typed by their fact when the rule set is
    built.

    Args:
        raw: The condition as parsed from TOML or JSON.
        path: Its JSON path, e.g. ``$.rules[0].when``.
        label: Prefix for messages, e.g. ``"rule 'bp-elevated': "``.
        problems: Where problems are appended.
    """
    if not isinstance(raw, Mapping):
        problems.append(
            (
                path,
                f"{label}a condition is a table such as {{fact = ..., eq = ...}} or {{all = [...]}}, got {raw!r}",
            )
        )
        return None
    if "fact" in raw:
        return _leaf_from_dict(raw, path, label, problems)
    if len(raw) != 1:
        known = [k for k in raw if k in OPERATORS]
        for key in (k for k in raw if k not in OPERATORS):
            problems.append(
                (
                    f"{path}.{key}",
                    f"{label}unknown operator {key!r}; expected one of {', '.join(OPERATORS)}",
                )
            )
        if len(known) != 1 or len(raw) == 0:
            problems.append(
                (
                    path,
                    f"{label}a condition needs exactly one of all, any, not or a fact test; got {sorted(raw)}",
                )
            )
        return None
    ((op, value),) = raw.items()
    if op == "not":
        part = condition_from_dict(value, f"{path}.not", label, problems)
        return Not(part) if part is not None else None
    if op in ("all", "any"):
        if not isinstance(value, list | tuple) or not value:
            problems.append(
                (
                    f"{path}.{op}",
                    f"{label}'{op}' needs a non-empty list of conditions, got {value!r}",
                )
            )
            return None
        parts = [
            condition_from_dict(v, f"{path}.{op}[{i}]", label, problems)
            for i, v in enumerate(value)
        ]
        if any(p is None for p in parts):
            return None
        return (AllOf if op == "all" else AnyOf)(parts)  # type: ignore[arg-type]
    if op in OPERATORS:
        problems.append((path, f"{label}'{op}' tests a fact; add fact = \"...\""))
    else:
        problems.append(
            (
                f"{path}.{op}",
                f"{label}unknown operator {op!r}; expected one of {', '.join(OPERATORS)}",
            )
        )
    return None


def json_value(value: Any) -> Any:
    """A condition value as written in a rule file: quantities as ``"140 mm[Hg]"``."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return canonical_number(float(value)) if isinstance(value, float) else value
    if isinstance(value, get_registry().Quantity):
        mag, code = to_ucum(value)
        return f"{mag} {code}"
    return value


def condition_to_dict(cond: Condition) -> dict[str, Any]:
    """The dict shape of a condition (the inverse of :func:`condition_from_dict`)."""
    if isinstance(cond, Comparison):
        return {"fact": cond.fact, cond.op: json_value(cond.value)}
    if isinstance(cond, OneOf):
        return {"fact": cond.fact, "in": [json_value(v) for v in cond.values]}
    if isinstance(cond, Present):
        return {"fact": cond.fact, "present": cond.present}
    if isinstance(cond, Not):
        return {"not": condition_to_dict(cond.part)}
    key = "all" if isinstance(cond, AllOf) else "any"
    return {key: [condition_to_dict(p) for p in cond.parts]}


def facts_of(cond: Condition) -> tuple[str, ...]:
    """Every fact path a condition reads, in order of appearance, without repeats."""
    out: dict[str, None] = {}

    def walk(c: Condition) -> None:
        if isinstance(c, AllOf | AnyOf):
            for p in c.parts:
                walk(p)
        elif isinstance(c, Not):
            walk(c.part)
        else:
            out[c.fact] = None

    walk(cond)
    return tuple(out)
