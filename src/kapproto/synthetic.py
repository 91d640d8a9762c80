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
from collections.abc import Mapping, Sequence
from typing import Final

from kapproto import _synthetic_patient as _patient
from kapproto._catalog import Catalog, get_protocol
from kapproto._courses import Course
from kapproto._protocols import Protocol
from kapproto.exceptions import ValidationError
from kapproto.screening import Facts, RuleSet

__all__ = ["CANDIDATE_PREVALENCE", "NOTE", "candidates", "cohort"]

NOTE: Final = _patient.NOTE
"""The note every synthetic session carries."""

CANDIDATE_PREVALENCE: Final[Mapping[str, float]] = _patient.CANDIDATE_PREVALENCE
"""Share of synthetic candidates for whom each yes/no fact is true (simulation parameters)."""


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
        _patient.Patient(seed, i, start or _patient.START).course(
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
        p = _patient.Patient(seed, i, _patient.START)
        flat = p.facts(prevalence=CANDIDATE_PREVALENCE)
        rng = p.rng
        kept = {k: v for k, v in flat.items() if rng.random() >= _patient.MISSING_RATE}
        kept["extra.synthetic"] = True
        out.append(Facts(_patient.nest(kept)))
    return out


# --------------------------------------------------------------------------
# Arguments
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
