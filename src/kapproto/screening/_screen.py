"""Screening a candidate, or a cohort, against a compiled rule set."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from kapproto.exceptions import ValidationError
from kapproto.screening._facts import Facts, public_value
from kapproto.screening._report import (
    Decision,
    Outcome,
    ScreeningFinding,
    ScreeningReport,
    _trusted_finding,
    _trusted_report,
    decide,
)
from kapproto.screening._ruleset import RuleSet, get_ruleset

__all__ = ["ScreeningRun", "screen", "screen_many"]

# Reports and findings are values: equal inputs share one object. The caches
# are per screening run and cleared when they grow past this many entries.
_CACHE_LIMIT: Final = 65536

_Key = tuple[tuple[int, "bool | None", tuple[Any, ...]], ...]


class _Screener:
    """One rule set's compiled tests, with the report for each outcome pattern."""

    def __init__(self, ruleset: RuleSet, time: datetime.datetime | None) -> None:
        self.rules = ruleset._compiled
        self.tests = tuple(c.test for c in self.rules)
        self.paths = tuple(c.paths for c in self.rules)
        self.ref = ruleset.ref
        self.time = time
        self.eligible = _trusted_report(Decision.ELIGIBLE, (), (), self.ref, time)
        self.reports: dict[_Key, ScreeningReport] = {}
        self.findings: dict[tuple[int, bool | None, tuple[Any, ...]], ScreeningFinding] = {}
        self.values: dict[tuple[str, Any], Any] = {}

    def __call__(self, facts: Facts) -> ScreeningReport:
        d = facts._values
        results = [test(d) for test in self.tests]
        if results.count(False) == len(results):
            return self.eligible
        get, paths = d.get, self.paths
        key = tuple(
            [(i, r, tuple(map(get, paths[i]))) for i, r in enumerate(results) if r is not False]
        )
        report = self.reports.get(key)
        if report is None:
            report = self._report(key)
        return report

    def _value(self, path: str, raw: Any) -> Any:
        """The public value of a raw fact value, built once per distinct value."""
        key = (path, raw)
        value = self.values.get(key)
        if value is None:
            if len(self.values) >= _CACHE_LIMIT:
                self.values.clear()
            value = self.values[key] = public_value(path, raw)
        return value

    def _finding(self, i: int, result: bool | None, raw: tuple[Any, ...]) -> ScreeningFinding:
        cache_key = (i, result, raw)
        found = self.findings.get(cache_key)
        if found is not None:
            return found
        rule = self.rules[i].rule
        paths = self.paths[i]
        found = _trusted_finding(
            rule,
            Outcome.MATCHED if result else Outcome.UNKNOWN,
            {p: self._value(p, v) for p, v in zip(paths, raw, strict=True) if v is not None},
            tuple([p for p, v in zip(paths, raw, strict=True) if v is None])
            if result is None
            else (),
        )
        if len(self.findings) >= _CACHE_LIMIT:
            self.findings.clear()
        self.findings[cache_key] = found
        return found

    def _report(self, key: _Key) -> ScreeningReport:
        findings = tuple(self._finding(i, r, raw) for i, r, raw in key)
        missing: dict[str, None] = {}
        for f in findings:
            if f.outcome is Outcome.UNKNOWN and f.severity.decides:
                missing.update(dict.fromkeys(f.missing))
        report = _trusted_report(decide(findings), findings, tuple(missing), self.ref, self.time)
        if len(self.reports) >= _CACHE_LIMIT:
            self.reports.clear()
        self.reports[key] = report
        return report


def _resolve(ruleset: RuleSet | str) -> RuleSet:
    if isinstance(ruleset, RuleSet):
        return ruleset
    if isinstance(ruleset, str):
        return get_ruleset(ruleset)
    raise ValidationError(f"expected a RuleSet or a built-in rule-set id, got {ruleset!r}")


def _check_time(time: object) -> datetime.datetime | None:
    if time is not None and (not isinstance(time, datetime.datetime) or time.utcoffset() is None):
        raise ValidationError(f"time={time!r} must be a timezone-aware datetime", path="$.time")
    return time


def screen(
    facts: Facts | Mapping[str, Any],
    ruleset: RuleSet | str,
    *,
    time: datetime.datetime | None = None,
) -> ScreeningReport:
    """Screen one candidate's facts against a rule set.

    Every rule is evaluated by three-valued logic: a test on an unknown fact
    is unknown. Any absolute rule true -> ``INELIGIBLE``; else any absolute
    or relative rule unknown -> ``INCOMPLETE``; else any relative rule true
    -> ``REVIEW``; else ``ELIGIBLE``.

    Args:
        facts: The candidate's :class:`Facts` (a plain nested mapping is
            checked into :class:`Facts` first).
        ruleset: A :class:`RuleSet`, or the id of a built-in one.
        time: When the screening was done (timezone-aware); recorded in the report.

    Raises:
        ValidationError: Facts that do not fit the catalogue, or a clinic
            fact whose value does not fit the type the rule set declares.
        UnknownReferenceError: An unknown built-in rule-set id.

    Example:
        >>> report = screen({"sex": "male", "history": {"psychosis": True}}, "ketamine-contraindications")
        >>> report.decision
        <Decision.INCOMPLETE: 'incomplete'>
        >>> [f.rule_id for f in report.findings if f.outcome.value == "matched"]
        ['psychosis']
    """
    built = facts if isinstance(facts, Facts) else Facts(facts)
    return _Screener(_resolve(ruleset), _check_time(time))(built)


class ScreeningRun:
    """The reports of :func:`screen_many`, in input order, with a running count.

    ``ScreeningRun(facts, ruleset, time)`` is the same as ``screen_many(facts,
    ruleset, time=time)``. Iterate it (once) for the reports. :attr:`summary` counts the reports
    yielded so far by decision; it is the cohort's summary once the run is
    exhausted (:attr:`done`).
    """

    def __init__(
        self, facts: Iterable[Facts], ruleset: RuleSet | str, time: datetime.datetime | None = None
    ) -> None:
        self._counts = dict.fromkeys(Decision, 0)
        self._done = False
        screener = _Screener(_resolve(ruleset), _check_time(time))
        self._gen = self._run(iter(facts), screener)

    def _run(self, facts: Iterator[Facts], screener: _Screener) -> Iterator[ScreeningReport]:
        counts = self._counts
        for n, item in enumerate(facts):
            if type(item) is not Facts:
                raise ValidationError(
                    f"screen_many takes built Facts; item {n} is {type(item).__name__}",
                    path=f"$[{n}]",
                )
            report = screener(item)
            counts[report.decision] += 1
            yield report
        self._done = True

    def __iter__(self) -> Iterator[ScreeningReport]:
        return self._gen

    def __next__(self) -> ScreeningReport:
        return next(self._gen)

    @property
    def summary(self) -> dict[Decision, int]:
        """Reports yielded so far, by decision (every decision present, maybe 0)."""
        return dict(self._counts)

    @property
    def done(self) -> bool:
        """Whether every input has been screened."""
        return self._done


def screen_many(
    facts: Iterable[Facts],
    ruleset: RuleSet | str,
    *,
    time: datetime.datetime | None = None,
) -> ScreeningRun:
    """Screen a cohort of already-built :class:`Facts`: the performance path.

    The rule set is compiled once (when it was built); each candidate costs
    one call of each rule's closure. Equal outcomes share one report object
    (reports are immutable values).

    Args:
        facts: Built :class:`Facts`, any iterable (read lazily).
        ruleset: A :class:`RuleSet`, or the id of a built-in one.
        time: When the screening was done; recorded in every report.

    Returns:
        An iterator of reports in input order, whose ``summary`` counts them
        by decision.

    Example:
        >>> cohort = [Facts({"allergies": {"ketamine": True}}), Facts({})]
        >>> run = screen_many(cohort, "ketamine-contraindications")
        >>> [r.decision.value for r in run]
        ['ineligible', 'incomplete']
        >>> run.summary[Decision.INELIGIBLE]
        1
    """
    return ScreeningRun(facts, ruleset, time)
