"""Compute weight-based doses, volumes and infusion rates, and check them against a protocol.

NOT MEDICAL ADVICE: the built-in protocols are reference defaults with
citations; a clinic sets its own limits in its own protocol file.

For an 80 kg patient the script computes, with units checked at every step:

* IV 0.5 mg/kg over 40 min (`iv-racemic-standard`): the dose in mg, the
  volume at 10 mg/mL and the infusion rate;
* IM 0.5 and 0.9 mg/kg at 100 mg/mL (`im-kap`): the dose, the volume and the
  protocol's verdict (0.9 mg/kg is above its 0.75 mg/kg limit);
* a 200 mg sublingual dose: its IV-equivalent systemic exposure, an estimate
  from the route's bioavailability, never a dose conversion.

It also shows what kapproto refuses: a bare number as a dose, and a dose per
body mass (mg/kg) where a mass (mg) is meant.

Run it from anywhere: `python examples/dose_calculator.py`.
"""

from __future__ import annotations

import datetime as dt

from kapproto import (
    Administration,
    DoseSpec,
    Formulation,
    KapprotoError,
    Route,
    check_doses,
    format_quantity,
    get_protocol,
    infusion_rate,
    iv_equivalent,
    quantity,
    volume_for,
)

WEIGHT = quantity("80 kg")
NOW = dt.datetime(2026, 3, 2, 9, 10, tzinfo=dt.timezone(dt.timedelta(hours=-7)))


def proposed(route: Route, amount: object, end: dt.datetime | None = None) -> Administration:
    """An administration record of `amount` by `route`, to check before giving it."""
    return Administration(
        id="a1",
        medication="ketamine",
        route=route,
        formulation=Formulation.SOLUTION_FOR_INJECTION,
        amount=amount,
        start=NOW,
        end=end,
    )


def main() -> int:
    print("Not medical advice: reference defaults with citations.\n")

    iv = DoseSpec(quantity("0.5 mg/kg"), Route.INTRAVENOUS)
    dose = iv.dose_for(WEIGHT)
    print(f"IV {format_quantity(iv.amount)} at {format_quantity(WEIGHT)}: {format_quantity(dose)}")
    print(f"  volume at 10 mg/mL: {format_quantity(volume_for(dose, quantity('10 mg/mL')))}")
    print(f"  rate over 40 min:   {format_quantity(infusion_rate(dose, quantity('40 min')))}")
    limits = get_protocol("iv-racemic-standard").doses
    findings = check_doses(
        [proposed(Route.INTRAVENOUS, dose, NOW + dt.timedelta(minutes=40))], limits, weight=WEIGHT
    )
    print(f"  iv-racemic-standard: {[f.code for f in findings] or 'within limits'}")

    for per_kg in ("0.5 mg/kg", "0.9 mg/kg"):
        im = DoseSpec(quantity(per_kg), Route.INTRAMUSCULAR)
        dose = im.dose_for(WEIGHT)
        volume = volume_for(dose, quantity("100 mg/mL"))
        findings = check_doses(
            [proposed(Route.INTRAMUSCULAR, dose)], get_protocol("im-kap").doses, weight=WEIGHT
        )
        verdict = "; ".join(f"{f.code}: {f.message}" for f in findings) or "within limits"
        print(f"IM {per_kg}: {format_quantity(dose)} = {format_quantity(volume)} at 100 mg/mL")
        print(f"  im-kap: {verdict}")

    print(f"SL 200 mg: {iv_equivalent(quantity('200 mg'), Route.SUBLINGUAL)}")

    for bad in (0.5, quantity("0.5 mg/kg")):
        try:
            volume_for(bad, quantity("100 mg/mL"))  # type: ignore[arg-type]
        except KapprotoError as exc:
            print(f"refused {bad!r}: {exc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
