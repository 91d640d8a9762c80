"""One synthetic patient for :mod:`kapproto.synthetic`: the draws behind each course.

The simulation parameters (rates of missing records, zones, dosing days and
dose ranges per route) are here; the module docstring of
:mod:`kapproto.synthetic` says what they mean and where they come from.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import zoneinfo
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from kapproto._administration import Administration
from kapproto._courses import Course
from kapproto._dosing import volume_for
from kapproto._limits import DoseLimits
from kapproto._protocols import Anchor, Protocol
from kapproto._routes import Formulation, Medication, Route
from kapproto._sessions import Session, SessionKind, facts_from_session
from kapproto._vitals import VitalSigns
from kapproto.instruments import InstrumentResponse, get_instrument
from kapproto.screening import RuleSet, screen
from kapproto.units import Quantity, quantity

NOTE: Final = "SYNTHETIC record from kapproto.synthetic; not a real patient."

CANDIDATE_PREVALENCE: Final[Mapping[str, float]] = {
    "pregnant": 0.03,  # of female and other candidates under 50; male candidates: absent
    "breastfeeding": 0.02,  # likewise
    "history.aneurysmal_vascular_disease": 0.005,
    "history.arteriovenous_malformation": 0.002,
    "history.intracerebral_hemorrhage": 0.003,
    "history.psychosis": 0.03,
    "history.mania": 0.02,
    "history.substance_use_disorder": 0.08,
    "hepatic.impairment": 0.02,
    "allergies.ketamine": 0.005,
    "medications.benzodiazepine": 0.2,
    "medications.maoi": 0.01,
    "medications.stimulant": 0.08,
    "medications.theophylline": 0.005,
    "scores.cssrs_screener.high_risk": 0.03,
}

MISSING_RATE: Final = 0.015
_RECHECK_MISSING_RATE: Final = 0.03
_EARLY_DISCHARGE_RATE: Final = 0.02
_ZONES: Final = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Europe/London",
)
START: Final = dt.date(2026, 1, 5)

# Days of the dosing sessions after the first, per route (see the module docstring).
_THRICE_WEEKLY: Final = (0, 2, 4, 7, 9, 11)
_TWICE_WEEKLY: Final = (0, 3, 7, 10, 14, 17, 21, 24)
_WEEKLY: Final = (0, 7, 14)
_DAYS: Final[Mapping[Route, tuple[int, ...]]] = {
    Route.INTRAVENOUS: _THRICE_WEEKLY,
    Route.SUBCUTANEOUS: _TWICE_WEEKLY,
}
# Dose range per route: (low, high, unit); mg/kg ranges are multiplied by the weight.
_RANGES: Final[Mapping[Route, tuple[float, float, str]]] = {
    Route.INTRAVENOUS: (0.4, 0.5, "mg/kg"),
    Route.INTRAMUSCULAR: (0.25, 0.75, "mg/kg"),
    Route.SUBCUTANEOUS: (0.5, 0.9, "mg/kg"),
    Route.SUBLINGUAL: (100, 400, "mg"),
    Route.BUCCAL: (100, 400, "mg"),
    Route.ORAL: (50, 300, "mg"),
    Route.INTRANASAL: (50, 50, "mg"),
}
_INFUSION: Final = dt.timedelta(minutes=40)
_CONCENTRATION: Final = "100 mg/mL"


@functools.lru_cache(maxsize=4096)
def _q(value: float | str, unit: str | None = None) -> Quantity:
    """``quantity()``, cached: a cohort repeats the same few readings and doses many times."""
    return quantity(value, unit)


def _clip(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, value in flat.items():
        node = out
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


class Patient:
    """Draws one synthetic patient's records from its own seeded generator."""

    def __init__(self, seed: int, index: int, start: dt.date) -> None:
        self.rng = r = random.Random(f"kapproto.synthetic:{seed}:{index}")
        self.id = f"synthetic-{seed}-{index:05d}"
        self.zone = zoneinfo.ZoneInfo(r.choice(_ZONES))
        self.weight = round(_clip(r.gauss(78, 16), 45, 150), 1)
        self.age = round(_clip(r.gauss(42, 13), 18, 80))
        self.sex = r.choices(("female", "male", "other"), (60, 38, 2))[0]
        self.systolic = _clip(r.gauss(122, 11), 95, 165)
        self.diastolic = _clip(r.gauss(77, 7), 55, self.systolic - 25)
        self.heart_rate = _clip(r.gauss(74, 9), 50, 110)
        self.phq9 = round(_clip(r.gauss(17, 4), 10, 27))
        self.item9 = r.choice((1, 1, 2)) if r.random() < 0.2 else 0
        self.gad7 = round(_clip(r.gauss(12, 4), 0, 21))
        self.fall = _clip(r.gauss(0.45, 0.3), -0.3, 1.0)
        self.first_dose = start + dt.timedelta(days=r.randrange(180))

    # -- facts --------------------------------------------------------------

    def facts(self, prevalence: Mapping[str, float]) -> dict[str, Any]:
        r = self.rng
        flat: dict[str, Any] = {
            "age": self.age,
            "sex": self.sex,
            "weight": f"{self.weight} kg",
            "vitals.systolic": f"{round(self.systolic)} mm[Hg]",
            "vitals.diastolic": f"{round(self.diastolic)} mm[Hg]",
            "scores.phq9.total": self.phq9,
            "scores.phq9.item9": self.item9,
        }
        for path, share in prevalence.items():
            if path in ("pregnant", "breastfeeding"):
                if self.sex != "male":
                    flat[path] = r.random() < (share if self.age < 50 else 0.0)
            else:
                flat[path] = r.random() < share
        if flat.get("hepatic.impairment"):
            flat["hepatic.child_pugh"] = r.choice("AABBC")
        return flat

    # -- a course -----------------------------------------------------------

    def course(self, protocol: Protocol, ruleset: RuleSet) -> Course:
        r = self.rng
        limits = r.choice(protocol.doses)
        prep = self.session(
            "prep",
            SessionKind.PREPARATION,
            self.first_dose - dt.timedelta(days=7),
            10,
            120,
            protocol,
            weight=True,
            vitals=[(5, self.systolic, self.diastolic)],
            scores=[(10, "phq9", self.phq9, self.item9), (20, "gad7", self.gad7, None)],
        )
        history = {
            k: v
            for k, v in self.facts(dict.fromkeys(CANDIDATE_PREVALENCE, 0.0)).items()
            if not k.startswith(("vitals.", "scores.phq9.", "weight"))
        }
        report = screen(facts_from_session(prep, nest(history)), ruleset, time=prep.end)
        days = _DAYS.get(
            limits.route, _TWICE_WEEKLY if limits.medication is Medication.ESKETAMINE else _WEEKLY
        )
        sessions = [prep]
        for n, day in enumerate(days, start=1):
            date = self.first_dose + dt.timedelta(days=day)
            sessions.append(self.dosing(f"d{n}", date, protocol, limits, first=n == 1))
            sessions.append(
                self.session(
                    f"i{n}", SessionKind.INTEGRATION, date + dt.timedelta(days=1), 9, 60, protocol
                )
            )
        follow = self.first_dose + dt.timedelta(days=28 + r.randint(-2, 2))
        phq9 = round(_clip(self.phq9 * (1 - self.fall), 0, 27))
        gad7 = round(_clip(self.gad7 * (1 - self.fall - r.gauss(0, 0.15)), 0, 21))
        item9 = min(self.item9, phq9) if r.random() < 0.5 else 0
        sessions.append(
            self.session(
                "fu4w",
                SessionKind.FOLLOW_UP,
                follow,
                10,
                30,
                protocol,
                scores=[(5, "phq9", phq9, item9), (15, "gad7", gad7, None)],
            )
        )
        return Course(
            id=f"{self.id}-course",
            patient=self.id,
            protocol=protocol.ref,
            timezone=self.zone,
            screenings=(report,),
            sessions=tuple(sorted(sessions, key=lambda s: s.start)),
        )

    def at(self, date: dt.date, hour: int) -> dt.datetime:
        return dt.datetime.combine(date, dt.time(hour), tzinfo=self.zone)

    def session(
        self,
        name: str,
        kind: SessionKind,
        date: dt.date,
        hour: int,
        minutes: int,
        protocol: Protocol,
        *,
        weight: bool = False,
        vitals: Sequence[tuple[int, float, float]] = (),
        scores: Sequence[tuple[int, str, int, int | None]] = (),
    ) -> Session:
        start = self.at(date, hour)
        return Session(
            id=f"{self.id}-{name}",
            patient=self.id,
            kind=kind,
            protocol=protocol.ref,
            start=start,
            end=start + dt.timedelta(minutes=minutes),
            weight=_q(self.weight, "kg") if weight else None,
            vitals=tuple(self.vitals(start + dt.timedelta(minutes=m), s, d) for m, s, d in vitals),
            assessments=tuple(
                InstrumentResponse(i, start + dt.timedelta(minutes=m), self.answers(i, t, nine))
                for m, i, t, nine in scores
            ),
            notes=NOTE,
        )

    def vitals(self, time: dt.datetime, systolic: float, diastolic: float) -> VitalSigns:
        r = self.rng
        s = round(_clip(systolic + r.gauss(0, 4), 85, 220))
        d = round(_clip(diastolic + r.gauss(0, 3), 45, s - 20))
        return VitalSigns(
            time,
            systolic=_q(s, "mm[Hg]"),
            diastolic=_q(d, "mm[Hg]"),
            heart_rate=_q(round(_clip(self.heart_rate + r.gauss(0, 5), 45, 140)), "/min"),
            spo2=_q(r.choice((95, 96, 97, 97, 98, 98, 99)), "%"),
        )

    def answers(self, instrument: str, total: int, item9: int | None) -> list[int]:
        """Item answers summing to ``total``; for PHQ-9 the last item is ``item9``."""
        items = get_instrument(instrument).items
        answers = [it.min for it in items]
        free = list(range(len(items)))
        if item9 is not None:
            answers[-1] = item9
            free.pop()
        left = total - sum(answers)
        while left > 0 and free:
            i = self.rng.choice(free)
            answers[i] += 1
            left -= 1
            if answers[i] >= items[i].max:
                free.remove(i)
        return answers

    # -- a dosing session ---------------------------------------------------

    def dosing(
        self, name: str, date: dt.date, protocol: Protocol, limits: DoseLimits, *, first: bool
    ) -> Session:
        r = self.rng
        start = self.at(date, 9)
        first_dose = start + dt.timedelta(minutes=10 + r.randint(0, 5))
        adms = self.administrations(first_dose, limits, first=first)
        anchors = {
            Anchor.FIRST_ADMINISTRATION_START: adms[0].start,
            Anchor.LAST_ADMINISTRATION_START: adms[-1].start,
            Anchor.LAST_ADMINISTRATION_END: adms[-1].end or adms[-1].start,
        }
        m = protocol.monitoring
        recheck = m.recheck.value if m.recheck else None
        recheck_at = anchors[
            recheck.anchor if recheck else Anchor.LAST_ADMINISTRATION_START
        ] + dt.timedelta(minutes=(recheck.at.magnitude if recheck else 40) + r.randint(-3, 3))
        obs = m.min_observation.value if m.min_observation else None
        anchor = anchors[obs.anchor if obs else Anchor.LAST_ADMINISTRATION_START]
        minimum = dt.timedelta(minutes=obs.duration.magnitude if obs else 120)
        if r.random() < _EARLY_DISCHARGE_RATE:
            discharge = anchor + minimum - dt.timedelta(minutes=r.randint(10, 30))
        else:
            discharge = anchor + minimum + dt.timedelta(minutes=r.randint(5, 40))
        rise_s, rise_d = r.gauss(12, 6), r.gauss(7, 4)
        readings = [(start + dt.timedelta(minutes=2), self.systolic, self.diastolic)]
        if r.random() >= _RECHECK_MISSING_RATE:
            readings.append((recheck_at, self.systolic + rise_s, self.diastolic + rise_d))
        after = anchor + dt.timedelta(minutes=90)
        readings.append((after, self.systolic + rise_s / 2, self.diastolic + rise_d / 2))
        last = discharge - dt.timedelta(minutes=5)
        readings.append((last, self.systolic - 2, self.diastolic - 2))
        readings = [x for x in readings if x[0] < discharge]
        return Session(
            id=f"{self.id}-{name}",
            patient=self.id,
            kind=SessionKind.DOSING,
            protocol=protocol.ref,
            start=start,
            end=max(discharge, adms[-1].end or adms[-1].start),
            weight=_q(self.weight, "kg"),
            administrations=tuple(adms),
            vitals=tuple(self.vitals(t, s, d) for t, s, d in sorted(readings, key=lambda x: x[0])),
            discharged_at=discharge,
            notes=NOTE,
        )

    def administrations(
        self, at: dt.datetime, limits: DoseLimits, *, first: bool
    ) -> list[Administration]:
        r = self.rng
        route, medication = limits.route, limits.medication
        formulation = self.formulation(limits)
        device = limits.device_amount_for(formulation)
        if device is not None:
            per = device.value.magnitude
            count = 2 if first or r.random() < 1 / 3 else 3
            count = min(count, int(self.cap(limits, first) // Decimal(str(per))) or 1)
            return [
                Administration(
                    id=f"a{i + 1}",
                    medication=medication,
                    route=route,
                    formulation=formulation,
                    amount=_q(per, "mg"),
                    start=at + dt.timedelta(minutes=5 * i),
                )
                for i in range(count)
            ]
        low, high, unit = _RANGES[route]
        drawn = r.uniform(low, high)
        if unit == "mg/kg":
            drawn *= self.weight
        elif route in (Route.SUBLINGUAL, Route.BUCCAL):
            drawn = 50 * round(drawn / 50)
        amount = max(1, int(min(Decimal(str(drawn)), self.cap(limits, first))))
        concentration = volume = None
        end = None
        if formulation is Formulation.SOLUTION_FOR_INJECTION:
            if route is Route.INTRAVENOUS:
                end = at + _INFUSION
            else:
                concentration = _q(_CONCENTRATION)
                volume = volume_for(_q(amount, "mg"), concentration)
        return [
            Administration(
                id="a1",
                medication=medication,
                route=route,
                formulation=formulation,
                amount=_q(amount, "mg"),
                start=at,
                end=end,
                concentration=concentration,
                volume=volume,
            )
        ]

    def formulation(self, limits: DoseLimits) -> Formulation:
        """A device where the medication has one (esketamine), else any other allowed form."""
        every = limits.formulations or [f for f in Formulation if f.allows(limits.route)]
        allowed = sorted(every, key=lambda f: f.value)
        devices = [f for f in allowed if f.device_amount(limits.medication) is not None]
        pool = devices or [f for f in allowed if f is not Formulation.NASAL_SPRAY_DEVICE]
        return self.rng.choice(pool or allowed)

    def cap(self, limits: DoseLimits, first: bool) -> Decimal:
        """The lowest per-administration or session limit the protocol sets at this weight."""
        caps: list[Decimal] = [Decimal(10_000)]
        params = [limits.per_administration_max, limits.session_max]
        if first:
            params.append(limits.first_session_max)
        for param in params:
            if param is not None:
                caps.extend(param.value.limits(weight=self.weight) or ())
        return min(caps)
