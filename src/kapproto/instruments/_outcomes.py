"""Outcomes between two administrations: change, response, remission."""

from __future__ import annotations

from fractions import Fraction

import attrs

from kapproto.exceptions import ValidationError
from kapproto.instruments._catalogue import resolve
from kapproto.instruments._model import Instrument, Score

__all__ = ["Change", "change", "is_remission", "is_response"]


@attrs.frozen
class Change:
    """The change in an instrument's total from baseline to follow-up.

    Attributes:
        baseline: Baseline total.
        followup: Follow-up total.
        absolute: ``followup - baseline`` (negative is a fall, i.e. improvement
            on every built-in scale).
        percent: ``100 * absolute / baseline``, or ``None`` when the baseline is 0.
    """

    baseline: int
    followup: int
    absolute: int
    percent: float | None


def _total(inst: Instrument, value: Score | int, path: str) -> int:
    """A total from a Score of this instrument or a bare total in its range."""
    if isinstance(value, Score):
        if value.instrument != inst.id:
            raise ValidationError(f"a {value.instrument} score given for {inst.id}", path=path)
        total = value.total
    else:
        total = value
    if inst.total_min is None or inst.total_max is None:
        raise ValidationError(
            f"{inst.id} has no numeric total, so no change, response or remission", path=path
        )
    if isinstance(total, bool) or not isinstance(total, int):
        raise ValidationError(f"expected a Score or an integer total, got {total!r}", path=path)
    if not inst.total_min <= total <= inst.total_max:
        raise ValidationError(
            f"total {total} is out of range for {inst.id}; expected {inst.total_min}..{inst.total_max}",
            path=path,
        )
    return total


def change(instrument: str | Instrument, baseline: Score | int, followup: Score | int) -> Change:
    """The absolute and percent change in total from baseline to follow-up.

    Raises:
        ValidationError: A total out of range, a score of another instrument,
            or a scale without a numeric total.

    Example:
        >>> change("phq9", 20, 8)
        Change(baseline=20, followup=8, absolute=-12, percent=-60.0)
    """
    inst = resolve(instrument)
    before = _total(inst, baseline, "$.baseline")
    after = _total(inst, followup, "$.followup")
    percent = None if before == 0 else float(Fraction(100 * (after - before), before))
    return Change(before, after, after - before, percent)


def is_response(instrument: str | Instrument, baseline: Score | int, followup: Score | int) -> bool:
    """Whether the fall from baseline meets the instrument's response definition.

    Response is a fall of at least the instrument's percent (50 % for PHQ-9,
    MADRS, QIDS-SR16), computed exactly in integers. A baseline of 0 cannot
    fall, so it is never a response.

    Raises:
        ValidationError: The instrument has no sourced response definition
            (GAD-7, PCL-5, BDI-II, CADSS, C-SSRS), or a bad total.

    Example:
        >>> is_response("phq9", 20, 10), is_response("phq9", 20, 11)
        (True, False)
    """
    inst = resolve(instrument)
    if inst.response is None:
        raise ValidationError(f"{inst.id} has no sourced response definition", path="$.instrument")
    before = _total(inst, baseline, "$.baseline")
    after = _total(inst, followup, "$.followup")
    return before > 0 and 100 * (before - after) >= inst.response.value * before


def is_remission(
    instrument: str | Instrument, score: Score | int, *, threshold: int | None = None
) -> bool:
    """Whether a total meets the instrument's remission definition.

    Args:
        instrument: Instrument id or :class:`Instrument`.
        score: A :class:`Score` or a total.
        threshold: Overrides the threshold (MADRS: 12 from the esketamine
            programme by default; 10 is also used in the literature).

    Raises:
        ValidationError: The instrument has no sourced remission definition,
            or a bad total.

    Example:
        >>> is_remission("phq9", 4), is_remission("phq9", 5)
        (True, False)
        >>> is_remission("madrs", 12), is_remission("madrs", 12, threshold=10)
        (True, False)
    """
    inst = resolve(instrument)
    if inst.remission is None:
        raise ValidationError(f"{inst.id} has no sourced remission definition", path="$.instrument")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int)):
        raise ValidationError(
            f"expected an integer threshold, got {threshold!r}", path="$.threshold"
        )
    return inst.remission.holds(_total(inst, score, "$.score"), threshold)
