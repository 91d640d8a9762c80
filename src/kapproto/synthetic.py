"""Seeded synthetic KAP courses and screening candidates, for researchers. SYNTHETIC DATA.

Nothing here describes a real patient or a real effect. The generators give
plausible, valid records to develop and test analysis code against: every
patient id starts ``synthetic-``, every session's ``notes`` says the record is
synthetic, and the same ``seed`` always gives the same data (``random.Random``,
not Hypothesis: Hypothesis is for tests, see :mod:`kapproto.testing`).

Distributions (simulation parameters, chosen to look plausible; they are not
clinical estimates and carry no evidence about any route or dose):

* **Patient**: weight normal(78 kg, 16 kg) clipped to 45-150 kg, rounded to
  0.1 kg and kept for the whole course; age normal(42, 13) clipped to 18-80;
  sex female 60 %, male 38 %, other 2 %; timezone one of five IANA zones.
* **Vital signs**: a resting systolic normal(122, 11) and diastolic
  normal(77, 7) mm[Hg] per patient, heart rate normal(74, 9) /min, SpO2 95-99 %.
  Each dosing session has a pre-dose reading, a recheck when the protocol sets
  one (else at 40 min), a reading 90 min after the dose and one just before
  discharge. After the dose systolic rises by normal(12, 6) and diastolic by
  normal(7, 4) mm[Hg], then settles.
* **Dose**: per route a range, clipped to every limit the protocol sets at
  the patient's weight and rounded down to a whole mg (so doses stay within
  the limits): intravenous 0.4-0.5 mg/kg over 40 min; intramuscular
  0.25-0.75 mg/kg; subcutaneous 0.5-0.9 mg/kg; sublingual or buccal 100-400 mg
  in 50 mg steps; oral 50-300 mg; racemic intranasal 50 mg; esketamine 56 mg
  on the first session and 56 or 84 mg (1 in 3, 2 in 3) after, one 28 mg device
  every 5 min.
* **Schedule**: intravenous six sessions three times a week; subcutaneous and
  esketamine eight sessions twice a week; other routes three weekly sessions.
  A preparation session 7 days before the first dose (weight, one BP reading,
  PHQ-9 and GAD-7), an integration session the day after each dose, and a
  follow-up at 28 (± 2) days after the first dose with PHQ-9 and GAD-7. The
  schedule does not follow the protocol's integration-plan template, so
  :func:`~kapproto.check_course` may add ``integration.late`` or
  ``assessment.missing`` warnings (a template's MADRS, or its follow-up
  window); :func:`~kapproto.check_session` on each dosing session is the
  check the deviations below are tuned for.
* **Deviations** (so a checker has something to find): in 3 % of dosing
  sessions the recheck reading is missing, in 2 % the patient is discharged
  10-30 min before the protocol's minimum observation. Pre-dose BP above a
  protocol's threshold occurs naturally (a warning, not an error).
* **Outcomes**: baseline PHQ-9 normal(17, 4) clipped to 10-27 (item 9 above 0
  in about 20 %); GAD-7 normal(12, 4) clipped to 0-21. The relative fall at
  follow-up is normal(0.45, 0.3) clipped to -0.3..1 for PHQ-9 (about 45 %
  response, 20 % remission), the same plus normal(0, 0.15) for GAD-7; the same
  for every route.
* **Screening**: each patient is screened with the protocol's rule set on
  complete facts (no history item is true, so the decision is eligible, or
  review when PHQ-9 item 9 is above 0 or BP is above the threshold).
  :func:`candidates` instead draws raw candidates with the prevalences in
  ``CANDIDATE_PREVALENCE`` and 1.5 % of facts missing.

Example:
    >>> from kapproto import synthetic
    >>> courses = synthetic.cohort(3, seed=1, protocol="im-kap")
    >>> courses[0].patient
    'synthetic-1-00000'
    >>> [s.kind.value for s in courses[0].sessions][:3]
    ['preparation', 'dosing', 'integration']
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
from kapproto._catalog import Catalog, get_protocol
from kapproto._courses import Course
from kapproto._dosing import volume_for
from kapproto._limits import DoseLimits
from kapproto._protocols import Anchor, Protocol
from kapproto._routes import Formulation, Medication, Route
from kapproto._sessions import Session, SessionKind, facts_from_session
from kapproto._vitals import VitalSigns
from kapproto.exceptions import ValidationError
from kapproto.instruments import InstrumentResponse, get_instrument
from kapproto.screening import Facts, RuleSet, screen
from kapproto.units import Quantity, quantity

__all__ = ["CANDIDATE_PREVALENCE", "NOTE", "candidates", "cohort"]

NOTE: Final = "SYNTHETIC record from kapproto.synthetic; not a real patient."
"""The note every synthetic session carries."""

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
"""Share of synthetic candidates for whom each yes/no fact is true (simulation parameters)."""

_MISSING_RATE: Final = 0.015
_RECHECK_MISSING_RATE: Final = 0.03
_EARLY_DISCHARGE_RATE: Final = 0.02
_ZONES: Final = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Europe/London",
)
_START: Final = dt.date(2026, 1, 5)

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


def cohort(
    n: int,
    *,
    seed: int = 0,
    protocol: str | Protocol | Sequence[str | Protocol] = "im-kap",
    start: dt.date | None = None,
    catalog: Catalog | None = None,
) -> list[Course]:
    """Generate ``n`` synthetic courses (labelled synthetic; see the module docstring).

    Args:
        n: Number of courses (patients), at least 0.
        seed: Same seed, same cohort. Course ``i`` depends only on ``seed``
            and ``i``, so ``cohort(10)`` is the first ten of ``cohort(500)``.
        protocol: A protocol id, a :class:`~kapproto.Protocol`, or several
            (courses take them in turn, giving a mix of routes). A protocol
            with several ``[[doses]]`` entries (``sl-kap``: sublingual and
            buccal) gives each course one of its routes.
        start: Earliest first-dose date; first doses fall within 180 days of it.
        catalog: Where a protocol's rule set is looked up (built-ins by default).

    Returns:
        Valid :class:`~kapproto.Course` records, in order.

    Raises:
        ValidationError: ``n`` is negative or not an integer, or no protocol given.
        UnknownReferenceError: An unknown protocol or rule-set id.

    Example:
        >>> courses = cohort(4, seed=7, protocol=["im-kap", "esketamine-trd"])
        >>> [c.protocol.id for c in courses]
        ['im-kap', 'esketamine-trd', 'im-kap', 'esketamine-trd']
        >>> courses == cohort(4, seed=7, protocol=["im-kap", "esketamine-trd"])
        True
        >>> courses[1].outcome("phq9").instrument
        'phq9'
    """
    _check_count(n, seed)
    if start is not None and not isinstance(start, dt.date):
        raise ValidationError(f"start={start!r} must be a date", path="$.start")
    if catalog is not None and not isinstance(catalog, Catalog):
        raise ValidationError(f"catalog={catalog!r} must be a kapproto.Catalog", path="$.catalog")
    protocols = _protocols(protocol)
    cat = catalog or Catalog.builtin()
    rulesets = [_ruleset(p, cat) for p in protocols]
    return [
        _Patient(seed, i, start or _START).course(
            protocols[i % len(protocols)], rulesets[i % len(protocols)]
        )
        for i in range(n)
    ]


def candidates(n: int, *, seed: int = 0) -> list[Facts]:
    """Generate ``n`` synthetic screening candidates' facts (labelled by ``extra.synthetic``).

    Each yes/no fact of :data:`CANDIDATE_PREVALENCE` is true with its share;
    age, sex, weight, vitals and PHQ-9 come from the cohort's distributions;
    each fact is missing (unknown) with probability 0.015, so some screenings
    are ``incomplete``. Same seed, same candidates.

    Example:
        >>> from kapproto.screening import screen_many
        >>> run = screen_many(candidates(50, seed=3), "ketamine-contraindications")
        >>> decisions = [report.decision.value for report in run]
        >>> sum(run.summary.values()), decisions.count("ineligible") <= 5
        (50, True)
    """
    _check_count(n, seed)
    out: list[Facts] = []
    for i in range(n):
        p = _Patient(seed, i, _START)
        flat = p.facts(prevalence=CANDIDATE_PREVALENCE)
        rng = p.rng
        kept = {k: v for k, v in flat.items() if rng.random() >= _MISSING_RATE}
        kept["extra.synthetic"] = True
        out.append(Facts(_nest(kept)))
    return out


# --------------------------------------------------------------------------
# One synthetic patient
# --------------------------------------------------------------------------


def _check_count(n: object, seed: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValidationError(f"n={n!r} must be a whole number of at least 0", path="$.n")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValidationError(f"seed={seed!r} must be an integer", path="$.seed")


def _protocols(protocol: object) -> list[Protocol]:
    if isinstance(protocol, str | Protocol):
        items: list[object] = [protocol]
    elif isinstance(protocol, Sequence):
        items = list(protocol)
    else:
        items = [protocol]
    if not items:
        raise ValidationError("give at least one protocol", path="$.protocol")
    out: list[Protocol] = []
    for i, p in enumerate(items):
        if isinstance(p, Protocol):
            out.append(p)
        elif isinstance(p, str):
            out.append(get_protocol(p))
        else:
            raise ValidationError(
                f"protocol={p!r} must be a protocol id or a kapproto.Protocol",
                path="$.protocol" if len(items) == 1 else f"$.protocol[{i}]",
            )
    return out


def _ruleset(protocol: Protocol, catalog: Catalog) -> RuleSet:
    ref = protocol.ruleset
    if ref is None:
        return catalog.ruleset("ketamine-contraindications")  # type: ignore[no-any-return]
    return catalog.ruleset(ref.id, ref.version)  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=4096)
def _q(value: float | str, unit: str | None = None) -> Quantity:
    """``quantity()``, cached: a cohort repeats the same few readings and doses many times."""
    return quantity(value, unit)


def _clip(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, value in flat.items():
        node = out
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


class _Patient:
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
        report = screen(facts_from_session(prep, _nest(history)), ruleset, time=prep.end)
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
