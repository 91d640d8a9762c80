"""Strategies for screening facts and rule sets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

# --------------------------------------------------------------------------
# Screening
# --------------------------------------------------------------------------


def _fact_values(spec: Any) -> st.SearchStrategy[Any]:
    """Valid values of one fact (quantities as pint quantities at the kind's resolution)."""
    from kapproto.screening import FactType

    if spec.type is FactType.BOOL:
        return st.booleans()
    if spec.type is FactType.ENUM:
        return st.sampled_from(spec.values)
    if spec.type is FactType.STRING:
        return st.text(max_size=12)
    step = float(spec.kind.resolution) if spec.kind is not None else 1.0
    low = 0.0 if spec.low is None else spec.low
    high = 1000.0 if spec.high is None else spec.high
    lo_steps = int(low / step) + (1 if spec.low_exclusive else 0)
    steps = st.integers(min_value=lo_steps, max_value=int(high / step))
    if spec.type is FactType.INT:
        return steps
    if spec.type is FactType.NUMBER:
        return steps.map(lambda n: n * step)
    kind = spec.kind
    return steps.map(lambda n: kind.quantity(float(format(n * step, ".12g")), kind.canonical))


def facts(
    ruleset: Any = None,
    *,
    paths: Sequence[str] | None = None,
    complete: bool = False,
) -> st.SearchStrategy[Any]:
    """Valid :class:`~kapproto.screening.Facts`, each fact present or absent.

    Args:
        ruleset: Generate only the facts this :class:`~kapproto.screening.RuleSet`
            reads (with the clinic facts it declares); default every catalogue fact.
        paths: Generate only these fact paths (catalogue facts).
        complete: Every generated path present (no unknowns).

    Example:
        >>> from hypothesis import given
        >>> from kapproto.screening import Decision, get_ruleset, screen
        >>> rules = get_ruleset("ketamine-contraindications")
        >>> @given(facts(rules, complete=True))
        ... def test_never_incomplete(f):
        ...     assert screen(f, rules).decision is not Decision.INCOMPLETE
        >>> test_never_incomplete()
    """
    from kapproto.screening import Facts, FactSpec, FactType, fact_catalogue

    specs = dict(fact_catalogue())
    if ruleset is not None:
        specs.update({s.path: s for s in ruleset.facts})
        # a clinic fact read only by `present` is undeclared: any value will do
        specs = {p: specs.get(p, FactSpec(p, FactType.BOOL)) for p in ruleset.fact_paths}
    if paths is not None:
        specs = {p: fact_catalogue()[p] for p in paths}
    strategies = {p: _fact_values(s) for p, s in specs.items()}
    if complete:
        chosen = st.fixed_dictionaries(strategies)
    else:
        chosen = st.fixed_dictionaries({}, optional=strategies)
    return chosen.map(Facts.from_paths)


def _conditions(
    specs: Sequence[Any], allow_present: bool, max_leaves: int
) -> st.SearchStrategy[Any]:
    from kapproto.screening import AllOf, AnyOf, Comparison, FactType, Not, OneOf, Present

    ordered = {FactType.INT, FactType.NUMBER, FactType.QUANTITY}

    @st.composite
    def leaf(draw: st.DrawFn) -> Any:
        spec = draw(st.sampled_from(specs))
        ops = ["eq", "ne", "in"] + (["gt", "ge", "lt", "le"] if spec.type in ordered else [])
        if allow_present:
            ops.append("present")
        op = draw(st.sampled_from(ops))
        if op == "present":
            return Present(spec.path, draw(st.booleans()))
        if op == "in":
            return OneOf(spec.path, draw(st.lists(_fact_values(spec), min_size=1, max_size=3)))
        return Comparison(spec.path, op, draw(_fact_values(spec)))  # type: ignore[arg-type]

    def combine(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        parts = st.lists(inner, min_size=1, max_size=3)
        return st.one_of(parts.map(AllOf), parts.map(AnyOf), inner.map(Not))

    return st.recursive(leaf(), combine, max_leaves=max_leaves)


def rulesets(
    *,
    paths: Sequence[str] | None = None,
    allow_present: bool = True,
    max_rules: int = 6,
    max_leaves: int = 6,
) -> st.SearchStrategy[Any]:
    """Valid :class:`~kapproto.screening.RuleSet` values over catalogue facts.

    Args:
        paths: The facts rules may read (default every catalogue fact).
        allow_present: Also use ``present``, the one non-monotone operator.
        max_rules: Most rules in a set (at least one).
        max_leaves: Most fact tests in one rule's condition.

    Example:
        >>> from hypothesis import given
        >>> from kapproto.screening import RuleSet
        >>> @given(rulesets())
        ... def test_round_trip(rs):
        ...     assert RuleSet.from_dict(rs.to_dict()) == rs
        >>> test_round_trip()
    """
    from kapproto.screening import Rule, RuleSet, RuleSeverity, fact_catalogue

    catalogue = fact_catalogue()
    specs = [catalogue[p] for p in (paths if paths is not None else catalogue)]
    conditions = _conditions(specs, allow_present, max_leaves)

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        count = draw(st.integers(min_value=1, max_value=max_rules))
        rules = [
            Rule(
                id=f"rule-{i}",
                title=f"Generated rule {i}",
                severity=draw(st.sampled_from(RuleSeverity)),
                source="kapproto.testing (generated)",
                when=draw(conditions),
            )
            for i in range(count)
        ]
        return RuleSet(
            id="generated",
            version=str(draw(st.integers(min_value=1, max_value=9))),
            title="Generated rule set",
            source="kapproto.testing (generated)",
            rules=rules,
        )

    return build()
