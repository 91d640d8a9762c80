"""Rule sets: the model, reading and writing TOML/JSON, and the built-in sets."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, Final

import attrs

from kapproto._data import latest, read_document, shipped
from kapproto._params import Confidence
from kapproto.exceptions import RuleError
from kapproto.screening._catalogue import FactSpec, FactType
from kapproto.screening._compile import CompiledRule, compile_rules
from kapproto.screening._model import (
    MALFORMED,
    Condition,
    Rule,
    RuleSeverity,
    condition_from_dict,
    condition_to_dict,
)
from kapproto.screening._report import RuleSetRef
from kapproto.serialization import register_hooks
from kapproto.units import KINDS

__all__ = ["RuleSet", "builtin_rulesets", "get_ruleset", "load_ruleset"]

_TOP_KEYS: Final = ("id", "version", "title", "source", "rules", "facts")
_RULE_KEYS: Final = ("id", "title", "severity", "source", "confidence", "when")
_FACT_KEYS: Final = ("path", "type", "kind", "values", "description", "source")
_KIND_BY_NAME: Final = {k.name: k for k in KINDS}


def _rules(value: Iterable[Rule]) -> tuple[Rule, ...]:
    return tuple(value)


def _specs(value: Iterable[FactSpec]) -> tuple[FactSpec, ...]:
    return tuple(value)


@attrs.frozen
class RuleSet:
    """A declarative screening rule set, checked and compiled when built.

    Building one (from Python, :meth:`from_dict` or :func:`load_ruleset`)
    checks every fact path, operator, value type and unit kind and that rule
    ids are unique, and reports every problem at once as a
    :class:`~kapproto.exceptions.RuleError`. Values are then held typed by
    their fact (quantities in their kind's canonical unit) and the rules are
    compiled once to closures.

    Attributes:
        id: Rule-set id (``"ketamine-contraindications"``).
        version: Version string (``"1"``).
        title: What the rule set is for.
        source: Where it comes from (label, SOP).
        rules: The rules, in order; findings are reported in this order.
        facts: Clinic facts under ``extra.`` that the rules compare, with
            their types (see the rule-set format reference).

    Example:
        >>> rs = RuleSet.from_dict({
        ...     "id": "demo", "version": "1", "title": "Demo", "source": "Clinic SOP",
        ...     "rules": [{"id": "bp", "title": "BP above 140", "severity": "relative",
        ...                "source": "Spravato PI §5.6",
        ...                "when": {"fact": "vitals.systolic", "gt": "140 mmHg"}}]})
        >>> rs.to_dict()["rules"][0]["when"]
        {'fact': 'vitals.systolic', 'gt': '140 mm[Hg]'}
    """

    id: str
    version: str
    title: str
    source: str
    rules: tuple[Rule, ...] = attrs.field(converter=_rules)
    facts: tuple[FactSpec, ...] = attrs.field(default=(), converter=_specs)
    _compiled: tuple[CompiledRule, ...] = attrs.field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        for name in ("id", "version", "source", "title"):
            value = getattr(self, name)
            if not isinstance(value, str) or (name != "title" and not value.strip()):
                what = "a string" if name == "title" else "a non-empty string"
                if name == "version" and isinstance(value, int | float):
                    what += f" such as '{value}'"
                problems.append((f"$.{name}", f"expected {what}, got {value!r}"))
        rs_id = self.id if isinstance(self.id, str) else "?"
        compiled, more = compile_rules(rs_id, self.rules, self.facts)
        problems += more
        if problems:
            raise RuleError(problems=problems)
        object.__setattr__(self, "rules", tuple(c.rule for c in compiled))
        object.__setattr__(self, "_compiled", tuple(compiled))

    @property
    def ref(self) -> RuleSetRef:
        """The ``{id, version}`` reference reports carry."""
        return RuleSetRef(self.id, self.version)

    @property
    def fact_paths(self) -> tuple[str, ...]:
        """Every fact path the rules read, in rule order, each once.

        Example:
            >>> get_ruleset("ketamine-contraindications").fact_paths[:2]
            ('history.aneurysmal_vascular_disease', 'history.arteriovenous_malformation')
        """
        return tuple(dict.fromkeys(p for c in self._compiled for p in c.paths))

    @classmethod
    def from_dict(cls, data: object) -> RuleSet:
        """Build a rule set from its TOML/JSON shape.

        Raises:
            RuleError: Every problem found, each with its JSON path (such as
                ``$.rules[2].when.any[1].gt``) and the rule's id.
        """
        if not isinstance(data, Mapping):
            raise RuleError(f"a rule set is a table (JSON object), got {data!r}")
        problems = _unknown_keys(data, _TOP_KEYS, "$", "")
        raw_rules = data.get("rules")
        rules: list[Rule] = []
        if not isinstance(raw_rules, list | tuple):
            problems.append(("$.rules", f"expected a list of rules, got {raw_rules!r}"))
        else:
            rules = [_rule_from_dict(r, i, problems) for i, r in enumerate(raw_rules)]
        raw_facts = data.get("facts", [])
        facts: list[FactSpec] = []
        if not isinstance(raw_facts, list | tuple):
            problems.append(("$.facts", f"expected a list of fact declarations, got {raw_facts!r}"))
        else:
            # a malformed declaration keeps its place, so later paths stay right
            facts = [_fact_from_dict(r, i, problems) or MALFORMED for i, r in enumerate(raw_facts)]
        try:
            ruleset = cls(
                id=data.get("id"),  # type: ignore[arg-type]
                version=data.get("version"),  # type: ignore[arg-type]
                title=data.get("title"),  # type: ignore[arg-type]
                source=data.get("source"),  # type: ignore[arg-type]
                rules=rules,
                facts=facts,
            )
        except RuleError as exc:
            problems += exc.problems
        if problems:
            raise RuleError(problems=sorted(problems, key=_natural))
        return ruleset

    def to_dict(self) -> dict[str, Any]:
        """The TOML/JSON shape (the inverse of :meth:`from_dict`); defaults are left out."""
        out: dict[str, Any] = {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "source": self.source,
        }
        if self.facts:
            out["facts"] = [_fact_to_dict(f) for f in self.facts]
        out["rules"] = [_rule_to_dict(r) for r in self.rules]
        return out


def _natural(problem: tuple[str, str]) -> list[int | str]:
    """Sort key: paths in document order (``rules[2]`` before ``rules[10]``)."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", problem[0])]


def _unknown_keys(
    data: Mapping[str, Any], allowed: tuple[str, ...], path: str, label: str
) -> list[tuple[str, str]]:
    return [
        (f"{path}.{k}", f"{label}unknown key {k!r}; expected one of {', '.join(allowed)}")
        for k in data
        if k not in allowed
    ]


def _rule_from_dict(raw: object, i: int, problems: list[tuple[str, str]]) -> Rule:
    at = f"$.rules[{i}]"
    if not isinstance(raw, Mapping):
        problems.append((at, f"a rule is a table (JSON object), got {raw!r}"))
        return Rule(None, None, None, None, MALFORMED)  # type: ignore[arg-type]  # reported by RuleSet
    rid = raw.get("id")
    label = f"rule {rid!r}: " if isinstance(rid, str) and rid else ""
    problems += _unknown_keys(raw, _RULE_KEYS, at, label)
    severity: Any = raw.get("severity")
    if isinstance(severity, str) and severity in {s.value for s in RuleSeverity}:
        severity = RuleSeverity(severity)
    confidence: Any = raw.get("confidence")
    if isinstance(confidence, str) and confidence in {c.value for c in Confidence}:
        confidence = Confidence(confidence)
    when: Condition | None = MALFORMED
    if "when" not in raw:
        problems.append((f"{at}.when", f"{label}required key is missing"))
    else:
        when = condition_from_dict(raw["when"], f"{at}.when", label, problems) or MALFORMED
    # wrong types are kept as found and reported, with their paths, by RuleSet
    return Rule(rid, raw.get("title"), severity, raw.get("source"), when, confidence)  # type: ignore[arg-type]


def _fact_from_dict(raw: object, i: int, problems: list[tuple[str, str]]) -> FactSpec | None:
    at = f"$.facts[{i}]"
    if not isinstance(raw, Mapping):
        problems.append((at, f"a fact declaration is a table (JSON object), got {raw!r}"))
        return None
    found = _unknown_keys(raw, _FACT_KEYS, at, "")
    path, type_name = raw.get("path"), raw.get("type")
    if not isinstance(path, str) or not path:
        found.append((f"{at}.path", f"expected a dotted path under 'extra.', got {path!r}"))
    types = [t.value for t in FactType]
    if type_name not in types:
        found.append((f"{at}.type", f"expected one of {', '.join(types)}, got {type_name!r}"))
    kind_name = raw.get("kind")
    kind = _KIND_BY_NAME.get(kind_name) if isinstance(kind_name, str) else None
    if (type_name == "quantity") != ("kind" in raw) or ("kind" in raw and kind is None):
        found.append(
            (
                f"{at}.kind",
                "a quantity fact needs kind = one of "
                f"{', '.join(_KIND_BY_NAME)}, and only a quantity fact has one",
            )
        )
    values = raw.get("values", [])
    if (type_name == "enum") != ("values" in raw) or not (
        isinstance(values, list | tuple) and all(isinstance(v, str) for v in values)
    ):
        found.append(
            (
                f"{at}.values",
                "an enum fact needs values = a non-empty list of strings, and only an enum has them",
            )
        )
    for key in ("description", "source"):
        if not isinstance(raw.get(key, ""), str):
            found.append((f"{at}.{key}", f"expected a string, got {raw[key]!r}"))
    problems += found
    if found:
        return None
    return FactSpec(
        path=path,  # type: ignore[arg-type]
        type=FactType(type_name),
        description=raw.get("description", ""),
        source=raw.get("source", ""),
        kind=kind,
        values=tuple(values),
    )


def _fact_to_dict(spec: FactSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"path": spec.path, "type": spec.type.value}
    if spec.kind is not None:
        out["kind"] = spec.kind.name
    if spec.values:
        out["values"] = list(spec.values)
    if spec.description:
        out["description"] = spec.description
    if spec.source:
        out["source"] = spec.source
    return out


def _rule_to_dict(rule: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": rule.id,
        "title": rule.title,
        "severity": rule.severity.value,
        "source": rule.source,
    }
    if rule.confidence is not None:
        out["confidence"] = rule.confidence.value
    out["when"] = condition_to_dict(rule.when)
    return out


# --------------------------------------------------------------------------
# Files and built-ins
# --------------------------------------------------------------------------


def load_ruleset(path: str | os.PathLike[str]) -> RuleSet:
    """Read a rule set from a TOML or JSON file (by its extension).

    Raises:
        RuleError: The file is not valid TOML/JSON or not a valid rule set;
            every problem is listed.
        OSError: The file cannot be read.

    Example:
        >>> from kapproto import load_ruleset
        >>> rules = load_ruleset("examples/screening/clinic-rules.toml")
        >>> rules.ref, len(rules.rules)
        (RuleSetRef(id='clinic-x', version='3'), 10)
    """
    return RuleSet.from_dict(read_document(path, error=RuleError))


@cache
def builtin_rulesets() -> Mapping[tuple[str, str], RuleSet]:
    """Every rule set kapproto ships, by ``(id, version)``."""
    out: dict[tuple[str, str], RuleSet] = {}
    for _name, data in shipped("rulesets"):
        ruleset = RuleSet.from_dict(data)
        out[(ruleset.id, ruleset.version)] = ruleset
    return out


def get_ruleset(id: str, version: str | None = None) -> RuleSet:
    """A built-in rule set by id, at ``version`` or the latest.

    Raises:
        UnknownReferenceError: No built-in rule set has that id (and version);
            the message lists the known ones.

    Example:
        >>> get_ruleset("ketamine-contraindications").ref
        RuleSetRef(id='ketamine-contraindications', version='1')
    """
    return latest(builtin_rulesets(), id, version, kind="rule set")


def _hooks(conv: Any) -> None:
    def structure(value: object, _: object) -> RuleSet:
        return value if isinstance(value, RuleSet) else RuleSet.from_dict(value)

    conv.register_structure_hook(RuleSet, structure)
    conv.register_unstructure_hook(RuleSet, RuleSet.to_dict)


register_hooks(_hooks)
