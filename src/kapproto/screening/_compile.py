"""Check a rule set against the fact catalogue and compile it to closures.

Compilation happens once, when a :class:`~kapproto.screening.RuleSet` is
built. Each condition becomes a closure over the fact path and the operand's
canonical primitive (a quantity's canonical magnitude), reading the flat value
dict of :class:`~kapproto.screening.Facts`: no pint arithmetic and no dict
interpretation per candidate. A closure returns ``True``, ``False`` or
``None`` (unknown), by Kleene's three-valued logic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeAlias

import attrs

from kapproto._params import Confidence
from kapproto.exceptions import ValidationError
from kapproto.screening._catalogue import (
    EXTRA,
    FactSpec,
    FactType,
    _Magnitude,
    _unknown,
    fact_catalogue,
)
from kapproto.screening._model import (
    MALFORMED,
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    Not,
    OneOf,
    Present,
    Rule,
    RuleSeverity,
    facts_of,
)

__all__ = ["CompiledRule", "Test", "compile_rules"]

Test: TypeAlias = Callable[[Mapping[str, Any]], "bool | None"]
"""A compiled condition: facts' flat values -> True, False or None (unknown)."""

Problems: TypeAlias = list[tuple[str, str]]

_ORDERED: Final = frozenset({FactType.INT, FactType.NUMBER, FactType.QUANTITY})


@attrs.frozen
class CompiledRule:
    """A rule with its compiled condition.

    Attributes:
        rule: The rule, its values canonical.
        test: The compiled condition.
        paths: Every fact path the condition reads, in order.
    """

    rule: Rule
    test: Test
    paths: tuple[str, ...]


# One maker per operator: (path, canonical operand) -> closure over them.
_MAKERS: Final[Mapping[str, Callable[[str, Any], Test]]] = {
    "eq": lambda p, c: lambda d: None if (v := d.get(p)) is None else v == c,
    "ne": lambda p, c: lambda d: None if (v := d.get(p)) is None else v != c,
    "gt": lambda p, c: lambda d: None if (v := d.get(p)) is None else v > c,
    "ge": lambda p, c: lambda d: None if (v := d.get(p)) is None else v >= c,
    "lt": lambda p, c: lambda d: None if (v := d.get(p)) is None else v < c,
    "le": lambda p, c: lambda d: None if (v := d.get(p)) is None else v <= c,
    "in": lambda p, c: lambda d: None if (v := d.get(p)) is None else v in c,
}


def _bool_leaf(path: str, op: str, c: object) -> Test | None:
    """Faster closures for a boolean fact compared with true/false."""
    if (op == "eq" and c is True) or (op == "ne" and c is False):
        return lambda d: d.get(path)  # the fact itself: True, False or None
    if (op == "eq" and c is False) or (op == "ne" and c is True):
        return lambda d: None if (v := d.get(path)) is None else not v
    return None


def _fits(spec: FactSpec) -> Callable[[object], bool]:
    """Whether a value under ``extra.`` fits the type a rule set declared."""
    t = spec.type
    if t is FactType.BOOL:
        return lambda v: type(v) is bool
    if t is FactType.INT:
        return lambda v: type(v) is int or (isinstance(v, float) and v.is_integer())
    if t is FactType.NUMBER:
        return lambda v: type(v) is int or type(v) is float
    if t is FactType.QUANTITY:
        kind = spec.kind
        return lambda v: type(v) is _Magnitude and v.kind is kind
    values = frozenset(spec.values)
    if t is FactType.ENUM:
        return lambda v: type(v) is str and v in values
    return lambda v: type(v) is str


def _checked(test: Test, spec: FactSpec, ruleset_id: str) -> Test:
    """Wrap a clinic-fact test so a value of the wrong type is an input error."""
    path, fits = spec.path, _fits(spec)

    def checked(d: Mapping[str, Any]) -> bool | None:
        v = d.get(path)
        if v is None:
            return None
        if not fits(v):
            raise ValidationError(
                f"{v!r} does not fit rule set {ruleset_id!r}, which declares {path!r} "
                f"as {spec.expected()}",
                path=f"$.{path}",
            )
        return test(d)

    return checked


def _kleene(parts: Sequence[Test], stop: bool) -> Test:
    """``all`` (``stop=False``) or ``any`` (``stop=True``) by Kleene's logic.

    A part equal to ``stop`` decides at once; else any unknown part makes the
    result unknown; else the result is ``not stop``.
    """
    done = not stop
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        a, b = parts

        def two(d: Mapping[str, Any]) -> bool | None:
            x = a(d)
            if x is stop:
                return stop
            y = b(d)
            if y is stop:
                return stop
            return None if x is None or y is None else done

        return two

    def many(d: Mapping[str, Any]) -> bool | None:
        unknown = False
        for part in parts:
            r = part(d)
            if r is stop:
                return stop
            if r is None:
                unknown = True
        return None if unknown else done

    return many


def _not(part: Test) -> Test:
    return lambda d: None if (r := part(d)) is None else not r


class _Compiler:
    """Walks one rule's condition: checks it, canonicalises it, builds its closure."""

    def __init__(self, ruleset_id: str, declared: Mapping[str, FactSpec]) -> None:
        self.ruleset_id = ruleset_id
        self.declared = declared
        self.problems: Problems = []
        self.label = ""

    def problem(self, path: str, message: str) -> None:
        self.problems.append((path, self.label + message))

    def spec(self, fact: str, path: str, *, typed: bool = True) -> FactSpec | None:
        spec = fact_catalogue().get(fact) or self.declared.get(fact)
        if spec is not None:
            return spec
        if fact.startswith(EXTRA + ".") and all(fact.split(".")):
            if typed:
                self.problem(
                    path,
                    f"clinic fact {fact!r} is not declared; add it to the rule set's "
                    "[[facts]] with its type",
                )
        else:
            self.problem(path, _unknown(fact))
        return None

    def value(self, spec: FactSpec, raw: object, path: str) -> tuple[Any, Any] | None:
        """(canonical primitive, public value), or ``None`` with a problem added."""
        try:
            prim = spec.parse(raw, bounds=False)
        except ValidationError as exc:
            for _p, message in exc.problems:
                self.problem(path, f"{spec.path}: {message}")
            return None
        return prim, spec.public(prim)

    def leaf(self, spec: FactSpec, op: str, prim: Any) -> Test:
        test = (_bool_leaf(spec.path, op, prim) if spec.type is FactType.BOOL else None) or _MAKERS[
            op
        ](spec.path, prim)
        if spec.path.startswith(EXTRA + "."):
            return _checked(test, spec, self.ruleset_id)
        return test

    def walk(self, cond: object, path: str) -> tuple[Condition, Test] | None:
        if cond is MALFORMED:
            return None
        if isinstance(cond, Present):
            self.spec(cond.fact, f"{path}.fact", typed=False)
            want: object = cond.present
            if not isinstance(want, bool):
                self.problem(f"{path}.present", f"expected true or false, got {want!r}")
                return None
            fact = cond.fact
            return cond, (lambda d: fact in d) if want else (lambda d: fact not in d)
        if isinstance(cond, Comparison):
            return self.comparison(cond, path)
        if isinstance(cond, OneOf):
            return self.one_of(cond, path)
        if isinstance(cond, Not):
            inner = self.walk(cond.part, f"{path}.not")
            return None if inner is None else (Not(inner[0]), _not(inner[1]))
        if isinstance(cond, AllOf | AnyOf):
            key = "all" if isinstance(cond, AllOf) else "any"
            if not cond.parts:
                self.problem(f"{path}.{key}", f"'{key}' needs a non-empty list of conditions")
                return None
            done = [self.walk(p, f"{path}.{key}[{i}]") for i, p in enumerate(cond.parts)]
            if any(d is None for d in done):
                return None
            conds = [d[0] for d in done if d is not None]
            tests = [d[1] for d in done if d is not None]
            if isinstance(cond, AllOf):
                return AllOf(tuple(conds)), _kleene(tests, stop=False)
            return AnyOf(tuple(conds)), _kleene(tests, stop=True)
        self.problem(path, f"expected a condition, got {cond!r}")
        return None

    def comparison(self, cond: Comparison, path: str) -> tuple[Condition, Test] | None:
        spec = self.spec(cond.fact, f"{path}.fact")
        op: str = cond.op
        if op not in _MAKERS or op == "in":
            self.problem(f"{path}.{op}", f"unknown comparison {op!r}")
            return None
        if spec is None:
            return None
        if cond.op in ("gt", "ge", "lt", "le") and spec.type not in _ORDERED:
            self.problem(
                f"{path}.{cond.op}",
                f"'{cond.op}' needs a number or quantity fact; {cond.fact!r} is "
                f"{spec.expected()} (use eq, ne or in)",
            )
            return None
        typed = self.value(spec, cond.value, f"{path}.{cond.op}")
        if typed is None:
            return None
        prim, public = typed
        return Comparison(cond.fact, cond.op, public), self.leaf(spec, cond.op, prim)

    def one_of(self, cond: OneOf, path: str) -> tuple[Condition, Test] | None:
        spec = self.spec(cond.fact, f"{path}.fact")
        if not cond.values:
            self.problem(f"{path}.in", "'in' needs a non-empty list of values")
            return None
        if spec is None:
            return None
        typed = [self.value(spec, v, f"{path}.in[{i}]") for i, v in enumerate(cond.values)]
        if any(t is None for t in typed):
            return None
        prims = frozenset(t[0] for t in typed if t is not None)
        publics = [t[1] for t in typed if t is not None]
        return OneOf(cond.fact, publics), self.leaf(spec, "in", prims)


def _check_text(c: _Compiler, value: object, path: str, *, empty: bool) -> None:
    if value is None:
        c.problem(path, "required key is missing")
    elif not isinstance(value, str) or (not empty and not value.strip()):
        c.problem(path, f"expected {'a' if empty else 'a non-empty'} string, got {value!r}")


def _check_enum(c: _Compiler, value: object, cls: type[Any], path: str, *, optional: bool) -> None:
    if isinstance(value, cls) or (optional and value is None):
        return
    allowed = ", ".join(m.value for m in cls)
    got = "nothing (required)" if value is None else repr(value)
    c.problem(path, f"expected one of {allowed}, got {got}")


def compile_rules(
    ruleset_id: str, rules: Sequence[object], declared: Sequence[object]
) -> tuple[list[CompiledRule], Problems]:
    """Check and compile every rule; report every problem at once.

    Args:
        ruleset_id: The rule set's id, for messages.
        rules: The rules (a condition already reported as malformed is
            :data:`~kapproto.screening._model.MALFORMED` and skipped).
        declared: Clinic facts (under ``extra.``) the rule set declares
            (:data:`~kapproto.screening._model.MALFORMED` for one already
            reported).

    Returns:
        The compiled rules (canonical values) and the problems found, each
        with a JSON path such as ``$.rules[2].when.any[1].gt`` and a message
        naming the rule id.
    """
    c = _Compiler(ruleset_id, {})
    declared_map: dict[str, FactSpec] = {}
    for i, spec in enumerate(declared):
        where = f"$.facts[{i}].path"
        if spec is MALFORMED:
            continue
        if not isinstance(spec, FactSpec):
            c.problem(f"$.facts[{i}]", f"expected a FactSpec, got {spec!r}")
        elif not spec.path.startswith(EXTRA + ".") or not all(spec.path.split(".")):
            c.problem(
                where, f"a rule set declares only clinic facts under '{EXTRA}.'; got {spec.path!r}"
            )
        elif spec.path in declared_map:
            c.problem(where, f"fact {spec.path!r} is declared twice")
        else:
            declared_map[spec.path] = spec
    c.declared = declared_map
    if not rules:
        c.problem("$.rules", "a rule set needs at least one rule")
    seen: dict[str, int] = {}
    compiled: list[CompiledRule] = []
    for i, rule in enumerate(rules):
        if not isinstance(rule, Rule):
            c.label = ""
            c.problem(f"$.rules[{i}]", f"expected a Rule, got {rule!r}")
            continue
        at = f"$.rules[{i}]"
        c.label = f"rule {rule.id!r}: " if isinstance(rule.id, str) and rule.id else ""
        _check_text(c, rule.id, f"{at}.id", empty=False)
        if isinstance(rule.id, str) and rule.id in seen:
            c.problem(f"{at}.id", f"duplicate rule id; rules[{seen[rule.id]}] has the same id")
        elif isinstance(rule.id, str):
            seen[rule.id] = i
        _check_text(c, rule.title, f"{at}.title", empty=True)
        _check_text(c, rule.source, f"{at}.source", empty=False)
        _check_enum(c, rule.severity, RuleSeverity, f"{at}.severity", optional=False)
        _check_enum(c, rule.confidence, Confidence, f"{at}.confidence", optional=True)
        done = c.walk(rule.when, f"{at}.when")
        if done is not None:
            canonical = attrs.evolve(rule, when=done[0])
            compiled.append(CompiledRule(canonical, done[1], facts_of(done[0])))
    return compiled, c.problems
