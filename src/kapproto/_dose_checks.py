"""Checking administrations against dose limits: the ``dose.*`` findings.

:func:`check_dose_limits` returns a :class:`DoseCheck` with the findings, the
checks that could not be evaluated (a per-kg limit without a weight, an
infusion without an end) and the limits the protocol does not configure;
:func:`check_doses` is the list-returning form DESIGN.md names. Limits are
compared after rounding both sides half-even to the kind's resolution, so a
dose equal to its limit passes and one resolution step above does not. Any
finite amount is checked, however large: totals are summed exactly
(:data:`~kapproto._bounds.EXACT`), so 1e308 mg is simply above the limit.

Example:
    >>> import datetime as dt
    >>> from kapproto import Administration, DoseLimits, check_doses, quantity
    >>> limits = DoseLimits.from_dict(
    ...     {"route": "intramuscular", "per_administration_max": "0.5 mg/kg"}
    ... )
    >>> given = Administration(
    ...     id="a1", medication="ketamine", route="intramuscular",
    ...     formulation="solution_for_injection", amount=quantity("41 mg"),
    ...     start=dt.datetime.fromisoformat("2026-03-02T09:10:00-07:00"),
    ... )
    >>> [f.code for f in check_doses([given], limits, weight=quantity("80 kg"))]
    ['dose.above_max']
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from decimal import MAX_EMAX, MIN_EMIN, ROUND_HALF_EVEN, Context, Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs

from kapproto._bounds import EXACT, DoseBound, check_weight, format_decimal, round_to
from kapproto._findings import Finding, finding
from kapproto._limits import DoseLimits
from kapproto._params import Parameter
from kapproto._routes import Basis, Formulation, Route
from kapproto._validators import instant
from kapproto.units import DURATION, MASS, MASS_RATE

if TYPE_CHECKING:
    from kapproto._administration import Administration

__all__ = [
    "DoseCheck",
    "NotEvaluable",
    "check_dose_limits",
    "check_doses",
    "first_session_unknown",
]


class NotEvaluable(NamedTuple):
    """A check that the record lacks the data for.

    Attributes:
        check: The check, named by the finding code it would give (``"dose.above_max"``).
        path: JSON path of what is missing (``"$.weight"``).
        reason: Why it could not be evaluated.
    """

    check: str
    path: str
    reason: str


@attrs.frozen
class DoseCheck:
    """The outcome of checking a session's administrations against dose limits.

    Attributes:
        findings: ``dose.*`` findings, in administration order.
        not_evaluable: Checks the record lacks data for, each with the missing path.
        not_configured: Limits the protocol leaves unset (``"dose.session_max"``).

    Example:
        >>> from kapproto import Session, check_dose_limits, from_json, get_protocol
        >>> session = from_json(open("examples/sessions/dose-above-limit.json").read(), Session)
        >>> limits = get_protocol("im-kap").doses
        >>> check = check_dose_limits(session.administrations, limits, weight=session.weight)
        >>> [f.code for f in check.findings], check.not_configured
        (['dose.above_max'], ('dose.min', 'dose.session_max'))
    """

    findings: tuple[Finding, ...] = ()
    not_evaluable: tuple[NotEvaluable, ...] = ()
    not_configured: tuple[str, ...] = ()


def check_doses(
    administrations: Sequence[Administration],
    limits: DoseLimits | Iterable[DoseLimits],
    *,
    weight: Any,
    first_session: bool | None = False,
) -> list[Finding]:
    """The ``dose.*`` findings for a session's administrations (see :func:`check_dose_limits`).

    Only the findings: a per-kg limit that could not be evaluated for want of
    a weight is *not* a pass, and this list cannot say so. Use
    :func:`check_dose_limits` when the outcome matters.

    Example:
        >>> from kapproto import Session, check_doses, from_json, get_protocol
        >>> session = from_json(open("examples/sessions/dose-above-limit.json").read(), Session)
        >>> limits = get_protocol("im-kap").doses
        >>> findings = check_doses(session.administrations, limits, weight=session.weight)
        >>> [(f.code, f.path) for f in findings]
        [('dose.above_max', '$.administrations[0]')]
    """
    return list(
        check_dose_limits(
            administrations, limits, weight=weight, first_session=first_session
        ).findings
    )


def check_dose_limits(
    administrations: Sequence[Administration],
    limits: DoseLimits | Iterable[DoseLimits],
    *,
    weight: Any,
    first_session: bool | None = False,
) -> DoseCheck:
    """Check a session's administrations against a protocol's ``[[doses]]`` entries.

    Each administration is matched to the entry for its medication and route
    (none: ``dose.route_not_allowed``). Per administration: formulation and
    route (``dose.formulation_route_mismatch``), the entry's formulations
    (``dose.formulation_not_allowed``), ``min`` and ``per_administration_max``,
    ``max_rate`` for infusions, whole devices; per entry and session:
    ``session_max``, ``first_session_max`` (when ``first_session`` is true),
    device count and spacing; across all: ``dose.duplicate_administration``.

    Args:
        administrations: The session's administrations; paths are
            ``$.administrations[i]``.
        limits: One entry or all of a protocol's entries.
        weight: The session's weight (BODY_MASS) or ``None``; a per-kg limit
            without it is not evaluable (unless the fixed part already fails).
        first_session: Whether this is the course's first dosing session;
            ``None`` (no course) skips ``first_session_max``, as DESIGN.md skips
            course checks without a course; ``kapproto._dose_checks.first_session_unknown`` gives
            what that leaves not evaluable.

    Raises:
        ValidationError: ``weight`` is physically impossible.
        UnitError: ``weight`` is not a BODY_MASS.

    Example:
        >>> from kapproto import Session, check_dose_limits, from_json, get_protocol
        >>> session = from_json(open("examples/sessions/dose-above-limit.json").read(), Session)
        >>> limits = get_protocol("im-kap").doses
        >>> check = check_dose_limits(session.administrations, limits, weight=session.weight)
        >>> print(check.findings[0].message)
        dose 72 mg is above per_administration_max 0.75 mg/kg (60 mg at 80 kg)
    """
    entries = (limits,) if isinstance(limits, DoseLimits) else tuple(limits)
    kg = None if weight is None else float(check_weight(weight).magnitude)
    run = _Run(kg)
    by_key: dict[tuple[Any, Any], int] = {}
    for index, entry in enumerate(entries):
        by_key.setdefault((entry.medication, entry.route), index)
    allowed = _allowed_pairs()
    groups: dict[int, list[tuple[int, Administration, Decimal]]] = {}
    seen: dict[tuple[Any, ...], int] = {}
    for i, a in enumerate(administrations):
        amount = round_to(a.amount.magnitude, MASS)
        key = (instant(a.start), a.route, a.medication, amount)  # real time, not wall clock
        if key in seen:
            run.add(
                "dose.duplicate_administration",
                f"same start, route and amount as $.administrations[{seen[key]}]: "
                "possibly recorded twice",
                _at(i),
            )
        else:
            seen[key] = i
        if (a.formulation, a.route) not in allowed:
            run.add(
                "dose.formulation_route_mismatch",
                f"{a.formulation.value} cannot go by the {a.route.value} route",
                _at(i),
            )
        found = by_key.get((a.medication, a.route))
        if found is None:
            run.add(
                "dose.route_not_allowed",
                f"{a.medication.value} by the {a.route.value} route is not in the protocol",
                _at(i),
            )
            continue
        entry = entries[found]
        dose = _in_limit_basis(a, entry, amount)
        groups.setdefault(found, []).append((i, a, dose))
        run.administration(i, a, entry, dose)
    for n, given in groups.items():
        run.session(entries[n], given, first_session)
    return DoseCheck(tuple(run.findings), tuple(run.missing.values()), tuple(run.unset))


def first_session_unknown(
    administrations: Sequence[Administration],
    limits: DoseLimits | Iterable[DoseLimits],
    *,
    weight: Any,
    why: str,
) -> tuple[NotEvaluable, ...]:
    """The first-session limits a session would break, when nobody knows if it is the first.

    :func:`check_dose_limits` with ``first_session=None`` leaves
    ``first_session_max`` out. A total within it passes either way; one above
    it can be judged only once it is known whether this is the course's first
    dosing session, and so is *not evaluable* (``dose.first_session_max``),
    never passed.

    Args:
        administrations: The session's administrations.
        limits: One entry or all of a protocol's entries.
        weight: The session's weight (BODY_MASS) or ``None``.
        why: What leaves it unknown, and what would settle it, for the reason.

    Returns:
        One entry, at ``$.administrations``, for each first-session limit the
        session would break as its course's first dosing session, and one at
        ``$.weight`` for a per-kg first-session limit it cannot judge without
        a weight.

    Example:
        >>> from kapproto import Session, from_json, get_protocol
        >>> session = from_json(open("examples/sessions/esketamine-session.json").read(), Session)
        >>> import attrs, datetime as dt
        >>> doses = get_protocol("esketamine-trd").doses
        >>> given = list(session.administrations)  # two 28 mg devices: within 56 mg either way
        >>> first_session_unknown(given, doses, weight=None, why="no course")
        ()
        >>> given.append(attrs.evolve(given[-1], id="d3", start=given[-1].start + dt.timedelta(minutes=5)))
        >>> [n.reason for n in first_session_unknown(given, doses, weight=None, why="no course")]
        ['session total 84 mg is above first_session_max 56 mg; no course']
    """
    as_first = check_dose_limits(administrations, limits, weight=weight, first_session=True)
    above = [
        NotEvaluable("dose.first_session_max", "$.administrations", f"{f.message}; {why}")
        for f in as_first.findings
        if f.code == "dose.above_first_session_max"
    ]
    # a per-kg first-session limit without a weight cannot be judged either way
    unknown = [
        NotEvaluable("dose.first_session_max", n.path, f"{n.reason}; {why}")
        for n in as_first.not_evaluable
        if n.check == "dose.above_first_session_max"
    ]
    return tuple(above + unknown)


@cache
def _allowed_pairs() -> frozenset[tuple[Formulation, Route]]:
    return frozenset((f, r) for f in Formulation for r in f.routes)


@cache
def _labelled(formulation: Formulation) -> Basis:
    return formulation.basis


def basis_factor(a: Administration, target: Basis) -> float:
    """What to multiply ``a.amount`` by to count it as ``target`` (base or hydrochloride).

    1 when ``a`` is recorded in ``target`` already; else the medication's
    ``hydrochloride_per_base`` (``data/medications.toml``) or its inverse.
    """
    if a.basis is target:
        return 1.0
    ratio = a.medication.info.hydrochloride_per_base.value
    return 1.0 / ratio if target is Basis.BASE else ratio


def _in_limit_basis(a: Administration, entry: DoseLimits, amount: Decimal) -> Decimal:
    target = entry.basis or _labelled(a.formulation)
    if a.basis is target:
        return amount
    return round_to(a.amount.magnitude, MASS, basis_factor(a, target))


# Device counts are shown to 28 significant digits (70 mg of 28 mg devices: 2.5).
_COUNTING = Context(prec=28, rounding=ROUND_HALF_EVEN, Emax=MAX_EMAX, Emin=MIN_EMIN)


def _devices_in(dose: Decimal, each: Decimal) -> tuple[Decimal, bool]:
    """How many ``each``-mg devices ``dose`` is, and whether that is a whole number (at least 1)."""
    whole = dose >= each and EXACT.remainder(dose, each).is_zero()
    return _COUNTING.divide(dose, each), whole


def _mg(value: Decimal) -> str:
    return f"{format_decimal(value)} mg"


class _Run:
    """Collects findings, not-evaluable checks and unset limits while checking."""

    __slots__ = ("findings", "kg", "missing", "unset")

    def __init__(self, kg: float | None) -> None:
        self.kg = kg
        self.findings: list[Finding] = []
        self.missing: dict[tuple[str, str], NotEvaluable] = {}
        self.unset: list[str] = []

    def add(self, code: str, message: str, path: str, source: str | None = None) -> None:
        self.findings.append(finding(code, message, path=path, source=source))

    def not_evaluable(self, check: str, path: str, reason: str) -> None:
        self.missing.setdefault((check, path), NotEvaluable(check, path, reason))

    def not_configured(self, name: str) -> None:
        check = f"dose.{name}"
        if check not in self.unset:
            self.unset.append(check)

    def bound(
        self,
        param: Parameter[DoseBound] | None,
        name: str,
        value: Decimal,
        upper: bool,
        code: str,
        i: int,
        what: str = "dose",
    ) -> None:
        """Compare a rounded value with a bound; a finding, a not-evaluable entry, or nothing."""
        if param is None:
            self.not_configured(name)
            return
        verdict = param.value.verdict(value, weight=self.kg, upper=upper)
        if verdict is False:
            return
        if verdict is None:
            self.not_evaluable(
                code, "$.weight", f"{name} is per body mass and the session records no weight"
            )
            return
        relation = "above" if upper else "below"
        self.add(
            code,
            f"{what} {format_decimal(value)} {param.value.kind.canonical} is {relation} {name} "
            f"{param.value.describe(weight=self.kg)}",
            _at(i),
            source=param.cite(name),
        )

    def administration(self, i: int, a: Administration, entry: DoseLimits, dose: Decimal) -> None:
        if entry.formulations and a.formulation not in entry.formulations:
            self.add(
                "dose.formulation_not_allowed",
                f"{a.formulation.value} is not among the protocol's formulations for "
                f"{entry.medication.value} by {entry.route.value}",
                _at(i),
            )
        self.bound(
            entry.per_administration_max, "per_administration_max", dose, True, "dose.above_max", i
        )
        self.bound(entry.min, "min", dose, False, "dose.below_min", i)
        if entry.max_rate is not None or a.end is not None:
            minutes = a.duration
            if minutes is not None and minutes.magnitude > 0:
                # amount / minutes, as Administration.rate, but exact beyond the float range
                value = round_to(a.amount.magnitude, MASS_RATE, per=minutes.magnitude)
                self.bound(
                    entry.max_rate, "max_rate", value, True, "dose.rate_above_max", i, "rate"
                )
            elif entry.max_rate is not None:
                self.not_evaluable(
                    "dose.rate_above_max",
                    _at(i, ".end"),
                    "no end time, so no infusion rate"
                    if minutes is None
                    else "end equals start, so no infusion rate",
                )
        device = entry.device_amount_for(a.formulation)
        if device is not None:
            each = round_to(device.value.magnitude, MASS)
            if not _devices_in(dose, each)[1]:
                self.add(
                    "dose.device_multiple",
                    f"{_mg(dose)} is not a whole number of {_mg(each)} devices",
                    _at(i),
                    source=device.cite("device_amount"),
                )

    def session(
        self,
        entry: DoseLimits,
        given: list[tuple[int, Administration, Decimal]],
        first_session: bool | None,
    ) -> None:
        ordered = (
            given
            if all(
                instant(a.start) <= instant(b.start)
                for (_, a, _), (_, b, _) in itertools.pairwise(given)
            )
            else sorted(given, key=lambda g: (instant(g[1].start), g[0]))
        )
        for name, code, applies in (
            ("session_max", "dose.cumulative_above_max", True),
            ("first_session_max", "dose.above_first_session_max", first_session is True),
        ):
            if not applies:
                continue
            param: Parameter[DoseBound] | None = getattr(entry, name)
            if param is None:
                self.not_configured(name)
                continue
            total = _total(dose for _, _, dose in ordered)
            at = ordered[-1][0]
            if param.value.verdict(total, weight=self.kg, upper=True):
                # monotone in the total: report it where the total first breaks the limit
                running = Decimal(0)
                for at, _, dose in ordered:  # noqa: B007
                    running = EXACT.add(running, dose)
                    if param.value.verdict(running, weight=self.kg, upper=True):
                        total = running
                        break
            self.bound(param, name, total, True, code, at, "session total")
        self._devices(entry, ordered)

    def _devices(
        self, entry: DoseLimits, ordered: list[tuple[int, Administration, Decimal]]
    ) -> None:
        devices = [
            (i, a, dose, d)
            for i, a, dose in ordered
            if (d := entry.device_amount_for(a.formulation)) is not None
        ]
        if not devices:
            return
        if entry.max_devices is None:
            self.not_configured("max_devices")
        else:
            limit = entry.max_devices.value
            count = Decimal(0)
            for i, _, dose, device in devices:
                count = _COUNTING.add(
                    count, _devices_in(dose, round_to(device.value.magnitude, MASS))[0]
                )
                if count > limit:
                    self.add(
                        "dose.device_multiple",
                        f"{format_decimal(count)} devices in the session; max_devices is {limit}",
                        _at(i),
                        source=entry.max_devices.cite("max_devices"),
                    )
                    break
        if entry.device_spacing is None:
            self.not_configured("device_spacing")
            return
        spacing = round_to(entry.device_spacing.value.magnitude, DURATION)
        for (_, before, _, _), (i, after, _, _) in itertools.pairwise(devices):
            gap = round_to(_minutes(instant(after.start) - instant(before.start)), DURATION)
            if gap < spacing:
                self.add(
                    "dose.device_spacing",
                    f"{format_decimal(gap)} min after the previous device; device_spacing is "
                    f"{format_decimal(spacing)} min",
                    _at(i),
                    source=entry.device_spacing.cite("device_spacing"),
                )


def _total(doses: Iterable[Decimal]) -> Decimal:
    """The exact sum of rounded doses, however large."""
    total = Decimal(0)
    for dose in doses:
        total = EXACT.add(total, dose)
    return total


def _at(i: int, suffix: str = "") -> str:
    return f"$.administrations[{i}]{suffix}"


def _minutes(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 60.0
