"""Dosing: DoseSpec.dose_for against bare pint, and check_doses on a three-dose session."""

from __future__ import annotations

import datetime as dt

from _harness import Group

from kapproto import Administration, DoseLimits, DoseSpec, check_dose_limits, check_doses
from kapproto.units import get_registry, quantity

_T0 = dt.datetime.fromisoformat("2026-03-02T09:10:00-07:00")


def _pint_case() -> object:
    """Bare pint with pre-built units: no kind check, no weight range, no rounding."""
    ureg = get_registry()
    rate = ureg.Quantity(0.5, "mg/kg")
    weight = ureg.Quantity(80.0, "kg")
    mg = ureg.Unit("mg")
    return lambda: (rate * weight).to(mg)


def _session() -> list[Administration]:
    """An IM KAP session: a 0.5 mg/kg dose and two 20 mg boosters 12 min apart."""
    return [
        Administration(
            id=f"a{k}",
            medication="ketamine",
            route="intramuscular",
            formulation="solution_for_injection",
            amount=quantity(amount),
            start=_T0 + dt.timedelta(minutes=12 * k),
            concentration=quantity("100 mg/mL"),
        )
        for k, amount in enumerate(("40 mg", "20 mg", "20 mg"))
    ]


def groups() -> list[Group]:
    spec = DoseSpec(quantity("0.5 mg/kg"), "intravenous")
    weight = quantity("80 kg")
    limits = DoseLimits.from_dict(
        {
            "route": "intramuscular",
            "formulations": ["solution_for_injection"],
            "per_administration_max": ["60 mg", "0.75 mg/kg"],
            "session_max": {"value": "1 mg/kg", "source": "clinic SOP", "confidence": "design"},
            "min": "10 mg",
        }
    )
    session = _session()
    return [
        Group(
            "Weight-based dose: 0.5 mg/kg x 80 kg in mg",
            {
                "pint (rate * weight).to(mg), pre-built units": _pint_case(),
                "DoseSpec.dose_for (kind, weight range, 0.1 mg rounding)": lambda: spec.dose_for(
                    weight
                ),
            },
            baseline="pint (rate * weight).to(mg), pre-built units",
            unit="dose",
        ),
        Group(
            "check_doses on a session of 3 IM administrations (mg and mg/kg limits)",
            {
                "check_dose_limits (DoseCheck)": lambda: check_dose_limits(
                    session, limits, weight=weight
                ),
                "check_doses (list of findings)": lambda: check_doses(
                    session, limits, weight=weight
                ),
                # the same pint expression as above, to read this group against a
                # fixed unit of work when the machine is loaded
                "reference: one pint (rate * weight).to(mg)": _pint_case(),
            },
            baseline="check_dose_limits (DoseCheck)",
            unit="session",
        ),
    ]
