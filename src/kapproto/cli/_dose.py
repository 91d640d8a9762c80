"""``kapproto dose``: a dose, its volume and its infusion rate, unit-checked.

Also ``kapproto list routes`` and ``kapproto list formulations``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from kapproto.cli._common import (
    DISCLAIMER,
    EXIT_FAILED,
    EXIT_INCOMPLETE,
    EXIT_OK,
    Listers,
    print_json,
)

T = TypeVar("T")


def _routes() -> tuple[Sequence[str], list[Sequence[str]]]:
    from kapproto._routes import Route
    from kapproto.units import format_quantity

    rows: list[Sequence[str]] = []
    for route in Route:
        bio = route.bioavailability
        shown = (
            "not established"
            if bio is None
            else format_quantity(bio.low)
            if bio.low == bio.high
            else f"{format_quantity(bio.low)} to {format_quantity(bio.high)}"
        )
        rows.append((route.value, route.snomed.code, "yes" if route.weight_based else "no", shown))
    return ("route", "SNOMED CT", "weight-based", "bioavailability"), rows


def _formulations() -> tuple[Sequence[str], list[Sequence[str]]]:
    from kapproto._routes import Formulation, Medication
    from kapproto.units import format_quantity

    rows: list[Sequence[str]] = []
    for formulation in Formulation:
        devices = [
            f"{m.value} {format_quantity(d.value)}"
            for m in Medication
            if (d := formulation.device_amount(m)) is not None
        ]
        rows.append(
            (
                formulation.value,
                ", ".join(sorted(r.value for r in formulation.routes)),
                formulation.basis.value,
                ", ".join(devices) or "-",
            )
        )
    return ("formulation", "routes", "labelled as", "per device"), rows


def register(sub: Any, listers: Listers) -> None:
    """Add ``kapproto dose`` and the route and formulation listings."""
    from kapproto._routes import Medication, Route

    listers["routes"] = _routes
    listers["formulations"] = _formulations
    parser = sub.add_parser(
        "dose",
        help="compute a dose in mg from mg/kg and a weight, with volume and infusion rate",
        description="Every number needs its unit: '0.5 mg/kg', '80 kg', '100 mg/mL', '40 min'. "
        "Exit 0 computed (and within --protocol), 1 outside a --protocol limit, "
        "2 invalid input, 3 a --protocol limit not evaluable (e.g. per-kg without --weight, "
        "or above the first-session limit without --first-session or --not-first-session).",
    )
    from kapproto._routes import Formulation

    parser.add_argument("--route", required=True, choices=[r.value for r in Route])
    parser.add_argument("--dose", required=True, help="e.g. '0.5 mg/kg' or '200 mg'")
    parser.add_argument("--weight", help="e.g. '80 kg' or '176 lb'; required for a per-kg dose")
    parser.add_argument(
        "--medication",
        choices=[m.value for m in Medication],
        help="default: ketamine; with --protocol it must be given when the protocol has the "
        "route only for another medication",
    )
    parser.add_argument("--concentration", help="e.g. '100 mg/mL': also print the volume")
    parser.add_argument("--duration", help="e.g. '40 min': also print the infusion rate")
    parser.add_argument(
        "--protocol", help="check the dose against a protocol (built-in id or a protocol file)"
    )
    parser.add_argument(
        "--catalog", action="append", default=[], help="folder or file of a clinic's own data"
    )
    parser.add_argument(
        "--formulation",
        choices=[f.value for f in Formulation],
        help="with --protocol: the formulation (default: the protocol's first for the route)",
    )
    first = parser.add_mutually_exclusive_group()
    first.add_argument(
        "--first-session",
        action="store_true",
        help="with --protocol: this is the course's first dosing session",
    )
    first.add_argument(
        "--not-first-session",
        action="store_true",
        help="with --protocol: this is not the course's first dosing session; without either "
        "flag a dose above the first-session limit is not evaluable (exit 3)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=_run)


def _option(name: str, build: Callable[[], T]) -> T:
    """Run ``build``; an input error is reported against the command-line option."""
    from kapproto.exceptions import KapprotoError

    try:
        return build()
    except KapprotoError as exc:
        raise type(exc)(problems=[(name, m) for _, m in exc.problems]) from None


def _medication(args: argparse.Namespace, protocol: Any) -> str:
    """``--medication``, else ketamine, unless ``--protocol`` has the route only for another.

    Raises:
        ValidationError: ``--medication`` not given and the protocol's entries
            for ``--route`` are all for other medications: the message names
            the one to pass. kapproto does not guess a medication.
    """
    from kapproto._routes import Medication, Route
    from kapproto.exceptions import ValidationError

    if args.medication is not None:
        return str(args.medication)
    default = Medication.KETAMINE
    if protocol is None:
        return default.value
    route = Route(args.route)
    offered = sorted({d.medication.value for d in protocol.doses if d.route is route})
    if not offered or default.value in offered:
        return default.value
    choice = (
        f"pass --medication {offered[0]}"
        if len(offered) == 1
        else f"pass --medication with one of {', '.join(offered)}"
    )
    raise ValidationError(
        f"not given, and protocol {protocol.id} has the {route.value} route only for "
        f"{' and '.join(offered)}, not for the default {default.value}: {choice}",
        path="--medication",
    )


def _first_session(args: argparse.Namespace) -> bool | None:
    """``--first-session`` True, ``--not-first-session`` False, neither ``None`` (unknown)."""
    if args.first_session:
        return True
    return False if args.not_first_session else None


def _infusion_end(start: Any, duration: Any) -> Any:
    """``start`` plus ``duration`` minutes, or ``None`` without a duration.

    Raises:
        ValidationError: A duration that a record's times cannot hold (under a
            microsecond, or an end after the year 9999).
    """
    import datetime as dt

    from kapproto.exceptions import ValidationError
    from kapproto.units import format_quantity

    if duration is None:
        return None
    try:
        end = start + dt.timedelta(minutes=duration.magnitude)
    except OverflowError:
        end = None
    if end is None or end == start:
        raise ValidationError(
            f"an infusion of {format_quantity(duration)} cannot be recorded to check against "
            "the protocol: it must last at least 1 microsecond and end before the year 10000 "
            "(what a record's start and end times can hold)",
            path="--duration",
        )
    return end


def _protocol_check(
    args: argparse.Namespace, protocol: Any, spec: Any, dose: Any, weight: Any, duration: Any
) -> Any:
    """The computed dose as one administration, checked against ``--protocol``."""
    import datetime as dt

    import attrs

    from kapproto._administration import Administration
    from kapproto._dose_checks import check_dose_limits, first_session_unknown
    from kapproto._routes import Formulation

    entry = next(
        (d for d in protocol.doses if d.route is spec.route and d.medication is spec.medication),
        None,
    )
    if args.formulation is not None:
        formulation = Formulation(args.formulation)
    elif entry is not None and entry.formulations:
        formulation = sorted(entry.formulations, key=lambda f: f.value)[0]
    else:
        formulation = next(f for f in Formulation if spec.route in f.routes)
    start = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # any instant: only the amount and rate matter
    end = _infusion_end(start, duration)
    administration = Administration(
        id="dose",
        medication=spec.medication,
        route=spec.route,
        formulation=formulation,
        amount=dose,
        start=start,
        end=end,
    )
    first = _first_session(args)
    check = check_dose_limits([administration], protocol.doses, weight=weight, first_session=first)
    if first is None:
        unknown = first_session_unknown(
            [administration],
            protocol.doses,
            weight=weight,
            why="it is unknown whether this is the course's first dosing session: "
            "pass --first-session or --not-first-session",
        )
        check = attrs.evolve(check, not_evaluable=check.not_evaluable + unknown)
    return check


def _run(args: argparse.Namespace) -> int:
    from kapproto._bounds import check_weight
    from kapproto._dosing import DoseSpec, infusion_rate, volume_for
    from kapproto.cli._check import catalog_from, protocol_from
    from kapproto.serialization import to_dict
    from kapproto.units import format_quantity, quantity, to_ucum

    protocol = protocol_from(args, catalog_from(args), None) if args.protocol else None
    medication = _medication(args, protocol)
    spec = _option("--dose", lambda: DoseSpec(quantity(args.dose), args.route, medication))
    weight = None if args.weight is None else _option("--weight", lambda: check_weight(args.weight))
    if spec.weight_based and weight is None:
        from kapproto.exceptions import ValidationError

        raise ValidationError(
            f"a weight-based dose ({format_quantity(spec.amount)}) needs --weight, e.g. '80 kg'",
            path="--weight",
        )
    dose = _option("--dose", lambda: spec.dose_for(weight))
    concentration = volume = duration = rate = None
    if args.concentration is not None:
        concentration = _option("--concentration", lambda: quantity(args.concentration))
        volume = _option("--concentration", lambda: volume_for(dose, concentration))
    if args.duration is not None:
        duration = _option("--duration", lambda: quantity(args.duration))
        rate = _option("--duration", lambda: infusion_rate(dose, duration))

    def as_json(q: Any) -> dict[str, Any] | None:
        if q is None:
            return None
        value, unit = to_ucum(q)
        return {"value": value, "unit": unit}

    result: dict[str, Any] = {
        "medication": spec.medication.value,
        "route": spec.route.value,
        "prescribed": as_json(spec.amount),
        "weight": as_json(weight),
        "dose": as_json(dose),
        "concentration": as_json(concentration),
        "volume": as_json(volume),
        "duration": as_json(duration),
        "rate": as_json(rate),
    }
    check = None
    if protocol is not None:
        check = _protocol_check(args, protocol, spec, dose, weight, duration)
        result["protocol"] = {"id": protocol.id, "version": protocol.version}
        result["findings"] = [to_dict(f) for f in check.findings]
        result["not_evaluable"] = [
            {"check": n.check, "path": n.path, "reason": n.reason} for n in check.not_evaluable
        ]
    code = _exit_code(check)
    if args.format == "json":
        print_json({k: v for k, v in result.items() if v is not None})
        return code
    basis = (
        f"{format_quantity(spec.amount)} x {format_quantity(weight)}"
        if spec.weight_based and weight is not None
        else "fixed dose"
    )
    print(
        f"dose    {format_quantity(dose)}  ({basis}; {spec.medication.value}, {spec.route.value})"
    )
    if volume is not None and concentration is not None:
        print(f"volume  {format_quantity(volume)}  (at {format_quantity(concentration)})")
    if rate is not None and duration is not None:
        print(f"rate    {format_quantity(rate)}  (over {format_quantity(duration)})")
    if check is not None:
        print(f"protocol {result['protocol']['id']} version {result['protocol']['version']}:")
        for f in check.findings:
            print(f"  {f.severity.value}: {f.code}: {f.message}")
        for n in check.not_evaluable:
            print(f"  not evaluable: {n.check}: {n.reason}")
        if not check.findings and not check.not_evaluable:
            print("  within every limit the protocol sets")
    print(DISCLAIMER)
    return code


def _exit_code(check: Any) -> int:
    """0 without a protocol or within it; 1 an ERROR finding; 3 a limit not evaluable."""
    from kapproto._findings import Severity

    if check is None:
        return EXIT_OK
    if any(f.severity is Severity.ERROR for f in check.findings):
        return EXIT_FAILED
    return EXIT_INCOMPLETE if check.not_evaluable else EXIT_OK
