"""Named scoring and flag rules, referenced by name from instrument data files.

A data file says ``scoring = "domain_max"`` or ``rule = "clusters"``; the
logic lives here as small functions, and the numbers (which items, how many,
what threshold) stay in the data. Each flag rule has a checker run when the
file is loaded, so a bad parameter is reported with its path then, not at
scoring time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kapproto.instruments._model import Instrument

__all__ = ["FLAG_RULES", "TOTAL_RULES", "FlagRuleSpec"]

Scores = Mapping[str, int]
Problems = list[tuple[str, str]]


# --------------------------------------------------------------------------
# Total rules: (instrument, item scores) -> (total or None, subscales)
# --------------------------------------------------------------------------


def _summed_subscales(inst: Instrument, scores: Scores) -> dict[str, int]:
    return {s.id: sum(scores[i] for i in s.items) for s in inst.subscales}


def total_sum(inst: Instrument, scores: Scores) -> tuple[int | None, dict[str, int]]:
    """Total = sum of the item scores; subscales = sums of their items."""
    return sum(scores[i] for i in inst.item_ids), _summed_subscales(inst, scores)


def total_domain_max(inst: Instrument, scores: Scores) -> tuple[int | None, dict[str, int]]:
    """Total = sum of domain scores, each the maximum of its items (QIDS-SR16).

    The domain scores are returned as subscales.
    """
    domains = {d.id: max(scores[i] for i in d.items) for d in inst.domains}
    return sum(domains.values()), {**domains, **_summed_subscales(inst, scores)}


def total_none(inst: Instrument, scores: Scores) -> tuple[int | None, dict[str, int]]:
    """No numeric total (C-SSRS screener): the result is in the flags."""
    return None, {}


def total_range(inst: Instrument) -> tuple[int, int] | None:
    """The range of totals the instrument's rule can produce (for load checks)."""
    if inst.scoring == "sum":
        return sum(i.min for i in inst.items), sum(i.max for i in inst.items)
    if inst.scoring == "domain_max":
        by_id = {i.id: i for i in inst.items}
        low = sum(max(by_id[x].min for x in d.items) for d in inst.domains)
        high = sum(max(by_id[x].max for x in d.items) for d in inst.domains)
        return low, high
    return None


TOTAL_RULES: dict[str, Callable[[Instrument, Scores], tuple[int | None, dict[str, int]]]] = {
    "sum": total_sum,
    "domain_max": total_domain_max,
    "none": total_none,
}
"""Total-score rules by the name a data file uses in ``scoring``."""


# --------------------------------------------------------------------------
# Flag rules: (params, item scores) -> raised?
# --------------------------------------------------------------------------


def _item_list(value: object, path: str, items: frozenset[str], problems: Problems) -> None:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        problems.append((path, f"expected a non-empty list of item ids, got {value!r}"))
        return
    problems.extend(
        (path, f"unknown item id {v!r}; items are {', '.join(sorted(items))}")
        for v in value
        if v not in items
    )


def _int_param(params: Mapping[str, Any], key: str, path: str, problems: Problems) -> None:
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append((f"{path}.{key}", f"expected an integer, got {value!r}"))


def flag_item_at_least(params: Mapping[str, Any], scores: Scores) -> bool:
    """Raised when any of ``items`` scores at least ``at_least`` (PHQ-9 item 9 >= 1)."""
    return any(scores[i] >= params["at_least"] for i in params["items"])


def _check_item_at_least(params: Mapping[str, Any], items: frozenset[str], path: str) -> Problems:
    problems: Problems = []
    _item_list(params.get("items"), f"{path}.items", items, problems)
    _int_param(params, "at_least", path, problems)
    return problems


def flag_clusters(params: Mapping[str, Any], scores: Scores) -> bool:
    """DSM-5 cluster rule (PCL-5): raised when every cluster has enough endorsed items.

    An item scoring ``endorsed_at`` or more is endorsed; each cluster needs at
    least its ``at_least`` endorsed items.
    """
    endorsed = params["endorsed_at"]
    return all(
        sum(1 for i in c["items"] if scores[i] >= endorsed) >= c["at_least"]
        for c in params["clusters"]
    )


def _check_clusters(params: Mapping[str, Any], items: frozenset[str], path: str) -> Problems:
    problems: Problems = []
    _int_param(params, "endorsed_at", path, problems)
    clusters = params.get("clusters")
    if not isinstance(clusters, list) or not clusters:
        return [*problems, (f"{path}.clusters", f"expected a list of tables, got {clusters!r}")]
    for n, cluster in enumerate(clusters):
        where = f"{path}.clusters[{n}]"
        if not isinstance(cluster, Mapping):
            problems.append((where, f"expected a table, got {cluster!r}"))
            continue
        _item_list(cluster.get("items"), f"{where}.items", items, problems)
        _int_param(cluster, "at_least", where, problems)
    return problems


def flag_any_all_yes(params: Mapping[str, Any], scores: Scores) -> bool:
    """Raised when, for any pattern, every item in it was answered yes (C-SSRS triage).

    Items not asked (skipped by the form's skip logic) count as not yes.
    """
    return any(all(scores.get(i, 0) == 1 for i in p) for p in params["patterns"])


def _check_any_all_yes(params: Mapping[str, Any], items: frozenset[str], path: str) -> Problems:
    patterns = params.get("patterns")
    if not isinstance(patterns, list) or not patterns:
        return [(f"{path}.patterns", f"expected a list of item-id lists, got {patterns!r}")]
    problems: Problems = []
    for n, pattern in enumerate(patterns):
        _item_list(pattern, f"{path}.patterns[{n}]", items, problems)
    return problems


FlagRuleSpec = tuple[
    Callable[[Mapping[str, Any], Scores], bool],
    Callable[[Mapping[str, Any], frozenset[str], str], Problems],
]

FLAG_RULES: dict[str, FlagRuleSpec] = {
    "item_at_least": (flag_item_at_least, _check_item_at_least),
    "clusters": (flag_clusters, _check_clusters),
    "any_all_yes": (flag_any_all_yes, _check_any_all_yes),
}
"""Flag rules by the name a data file uses in ``rule``: (evaluate, check)."""


def flag_items(params: Mapping[str, Any]) -> set[str]:
    """Every item id a flag rule's parameters refer to."""
    found: set[str] = set(params.get("items", ()))
    for cluster in params.get("clusters", ()):
        found.update(cluster["items"])
    for pattern in params.get("patterns", ()):
        found.update(pattern)
    return found
