"""A tiny side-by-side timing harness: median of repeats, ratio to a baseline.

Each ``bench_*.py`` module defines ``groups() -> list[Group]``. A group times
the same work done several ways in one run and prints each median and its
ratio to the group's baseline. Nothing here asserts a time: figures are for
reading, not for failing a build.
"""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable

import attrs


@attrs.frozen
class Group:
    """Several ways of doing the same work, timed side by side.

    Attributes:
        title: What the work is.
        cases: Label -> zero-argument callable doing the work once.
        baseline: The label every ratio is relative to.
        unit: What one call does (for the per-second figure), e.g. "session".
        per_call: How many units one call does.
        also: A second label every ratio is also given against, if any.
    """

    title: str
    cases: dict[str, Callable[[], object]]
    baseline: str
    unit: str = "call"
    per_call: int = 1
    also: str | None = None


def measure(fn: Callable[[], object], *, repeat: int = 7, budget: float = 0.2) -> float:
    """Median seconds per call over ``repeat`` runs of about ``budget`` seconds each."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    number = max(1, int(number * budget / 0.2))
    runs = timer.repeat(repeat=repeat, number=number)
    return statistics.median(runs) / number


def run_group(group: Group) -> list[tuple[str, float, float]]:
    """Time every case of a group; return (label, seconds per call, ratio to baseline)."""
    times = {label: measure(fn) for label, fn in group.cases.items()}
    base = times[group.baseline]
    return [(label, t, t / base) for label, t in times.items()]


def format_group(group: Group, results: list[tuple[str, float, float]]) -> str:
    """Render a group's results as a small table (a second ratio column with ``also``)."""
    times = {label: seconds for label, seconds, _ in results}
    second = f" {'ratio 2':>8}" if group.also else ""
    lines = [f"## {group.title}"]
    if group.also:
        lines.append(f"ratio: to {group.baseline!r}; ratio 2: to {group.also!r}")
    lines.append(f"{'case':<52} {'median':>12} {group.unit + '/s':>14} {'ratio':>8}{second}")
    for label, seconds, ratio in results:
        rate = group.per_call / seconds
        mark = " (baseline)" if label == group.baseline else ""
        extra = f" {seconds / times[group.also]:>7.2f}x" if group.also else ""
        lines.append(
            f"{label:<52} {seconds * 1e6:>10.2f}us {rate:>14,.0f} {ratio:>7.2f}x{extra}{mark}"
        )
    return "\n".join(lines)
