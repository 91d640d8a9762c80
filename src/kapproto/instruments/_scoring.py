"""Checking answers against an instrument and scoring them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final, NamedTuple, TypeAlias

from kapproto.exceptions import ValidationError
from kapproto.instruments._catalogue import resolve
from kapproto.instruments._model import AnswerKind, Instrument, Item, Score
from kapproto.instruments._rules import FLAG_RULES, TOTAL_RULES, flag_items

__all__ = ["Answer", "Answers", "item_scores", "score"]

Answer: TypeAlias = "int | bool | str | Sequence[str] | None"
"""One answer: an integer, yes/no, an option label (or several), or ``None`` for not answered."""
Answers: TypeAlias = "Sequence[Answer] | Mapping[str, Answer]"
"""Answers in item order, or keyed by item id."""


def _item_score(item: Item, value: object) -> int | str:
    """The item's score, or a message saying what was wrong."""
    if item.kind is AnswerKind.BOOLEAN:
        if isinstance(value, bool):
            return int(value)
        return f"expected true or false (yes/no) for {item.id}, got {value!r}"
    if item.kind is AnswerKind.OPTIONS:
        assert item.options is not None
        choices = ", ".join(repr(o) for o in item.options)
        chosen = [value] if isinstance(value, str) else value
        if (
            isinstance(chosen, list | tuple)
            and chosen
            and all(isinstance(c, str) and c in item.options for c in chosen)
        ):
            return max(item.options[c] for c in chosen)
        return f"expected one of {choices} (or a list of them) for {item.id}, got {value!r}"
    if isinstance(value, bool) or not isinstance(value, int):
        return f"expected an integer {item.min}..{item.max} for {item.id}, got {value!r}"
    if not item.min <= value <= item.max:
        return f"{value!r} is out of range for {item.id}; expected {item.min}..{item.max}"
    return value


def _keyed(
    inst: Instrument, answers: object
) -> tuple[dict[str, tuple[str, object]], list[tuple[str, str]]]:
    """Answers as item id -> (path, value), dropping ``None``; plus shape problems."""
    problems: list[tuple[str, str]] = []
    keyed: dict[str, tuple[str, object]] = {}
    ids = inst.item_ids
    if isinstance(answers, Mapping):
        for key, value in answers.items():
            path = (
                f"$.answers.{key}"
                if isinstance(key, str) and key.isidentifier()
                else f"$.answers[{key!r}]"
            )
            if key not in ids:
                problems.append(
                    (path, f"unknown item id {key!r}; {inst.id} items are {', '.join(ids)}")
                )
            elif value is not None:
                keyed[key] = (path, value)
    elif isinstance(answers, Sequence) and not isinstance(answers, str | bytes):
        if len(answers) != len(ids):
            problems.append(
                (
                    "$.answers",
                    f"expected {len(ids)} answers for {inst.id} (one per item, in order), got {len(answers)}",
                )
            )
        for n, (item_id, value) in enumerate(zip(ids, answers, strict=False)):
            if value is not None:
                keyed[item_id] = (f"$.answers[{n}]", value)
    else:
        problems.append(
            (
                "$.answers",
                f"expected a list of answers in item order or an object keyed by item id, got {answers!r}",
            )
        )
    return keyed, problems


def _asked(inst: Instrument, scores: Mapping[str, int]) -> list[str]:
    """Item ids the form asks, given the answers so far (skip logic)."""
    asked = []
    for item in inst.items:
        if item.asked_if is None:
            asked.append(item.id)
            continue
        on, answer = item.asked_if
        if on in scores and scores[on] == int(answer):
            asked.append(item.id)
    return asked


class _Ranges(NamedTuple):
    """What the common-case check of one instrument needs."""

    instrument: Instrument
    items: tuple[tuple[str, int, int], ...]  # (id, min, max) in order; () if not all simple
    ids: tuple[str, ...]
    uniform: tuple[int, int] | None  # (min, max) shared by every item, if they share one


# instrument id -> its _Ranges, for instruments whose every item is an integer
# asked unconditionally; the rest take the full path
_RANGES: dict[str, _Ranges] = {}
_INTEGERS: Final = frozenset({int})


def _ranges(inst: Instrument) -> _Ranges:
    entry = _RANGES.get(inst.id)
    if entry is None or entry.instrument is not inst:
        simple = all(i.kind is AnswerKind.INTEGER and i.asked_if is None for i in inst.items)
        items = tuple((i.id, i.min, i.max) for i in inst.items) if simple else ()
        bounds = {(low, high) for _, low, high in items}
        uniform = next(iter(bounds)) if len(bounds) == 1 else None
        entry = _Ranges(inst, items, tuple(i[0] for i in items), uniform)
        _RANGES[inst.id] = entry
    return entry


def in_range(inst: Instrument, answers: object) -> bool:
    """Whether every item is answered in order with an in-range integer.

    The common case, checked without building paths or messages; anything
    else (keyed answers, gaps, options, skip logic, a bad value) is ``False``
    and goes through the checks that say what is wrong.
    """
    if type(answers) is not tuple and type(answers) is not list:
        return False
    entry = _ranges(inst)
    if not entry.items or len(answers) != len(entry.items):
        return False
    if entry.uniform is not None:  # one range for all items: checked in bulk
        low, high = entry.uniform
        return set(map(type, answers)) == _INTEGERS and low <= min(answers) and max(answers) <= high
    return all(
        type(value) is int and low <= value <= high
        for (_, low, high), value in zip(entry.items, answers, strict=True)
    )


def _all_in_range(inst: Instrument, answers: object) -> dict[str, int] | None:
    """Item scores when :func:`in_range`, else ``None``."""
    if not in_range(inst, answers):
        return None
    return dict(zip(_ranges(inst).ids, answers, strict=True))  # type: ignore[call-overload]


def item_scores(instrument: str | Instrument, answers: object) -> tuple[dict[str, int], bool]:
    """Check answers against the instrument; return item scores by id and whether prorated.

    Raises:
        ValidationError: Every problem found, with paths such as ``$.answers[3]``.
        UnknownReferenceError: ``instrument`` is an unknown id.
    """
    inst = resolve(instrument)
    fast = _all_in_range(inst, answers)
    if fast is not None:
        return fast, False
    keyed, problems = _keyed(inst, answers)
    by_id = {item.id: item for item in inst.items}
    scores: dict[str, int] = {}
    for item_id, (path, value) in keyed.items():
        result = _item_score(by_id[item_id], value)
        if isinstance(result, str):
            problems.append((path, result))
        else:
            scores[item_id] = result
    if problems:
        raise ValidationError(problems=problems)
    for item in inst.items:
        if item.asked_if is not None and item.id in scores and item.asked_if[0] in scores:
            on, answer = item.asked_if
            if (
                scores[item.id] == 1
                and scores[on] != int(answer)
                and item.kind is AnswerKind.BOOLEAN
            ):
                problems.append(
                    (
                        f"$.answers.{item.id}",
                        f"{item.id} is yes but is asked only when {on} is {'yes' if answer else 'no'}",
                    )
                )
    missing = [i for i in _asked(inst, scores) if i not in scores]
    prorated = False
    if missing:
        flagged = sorted(set(missing) & {i for f in inst.flags for i in flag_items(f.params)})
        if inst.prorate is None or len(missing) > inst.prorate.max_missing or flagged:
            why = (
                f"{inst.id} has no published prorating rule"
                if inst.prorate is None
                else f"prorating allows at most {inst.prorate.max_missing} missing ({inst.prorate.source})"
                if not flagged
                else f"{', '.join(flagged)} decide a flag and cannot be prorated"
            )
            problems.append(("$.answers", f"missing answers for {', '.join(missing)}; {why}"))
        else:
            prorated = True
    if problems:
        raise ValidationError(problems=problems)
    return scores, prorated


def _prorate(inst: Instrument, scores: Mapping[str, int]) -> dict[str, int]:
    """Fill missing items with the mean of the answered ones (for the summed total)."""
    answered = [scores[i] for i in inst.item_ids if i in scores]
    mean = Decimal(sum(answered)) / len(answered)
    filled = {i: scores.get(i) for i in inst.item_ids}
    exact = mean * len(inst.items)
    total = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    # Put the rounded remainder on the missing items so the sum is the prorated total.
    missing = [i for i, v in filled.items() if v is None]
    rest = total - sum(answered)
    out = {i: v for i, v in filled.items() if v is not None}
    for n, i in enumerate(missing):
        out[i] = rest // len(missing) + (1 if n < rest % len(missing) else 0)
    return out


def score(
    instrument: str | Instrument,
    answers: Any,
    *,
    cutpoint: int | None = None,
) -> Score:
    """Score one administration of an instrument.

    Args:
        instrument: An instrument id (``"phq9"``) or an :class:`Instrument`
            (a clinic's own, from :func:`load_instrument`).
        answers: Answers in item order, or a mapping of item id to answer
            (C-SSRS screener: booleans keyed by item id, items skipped by its
            skip logic omitted). ``None`` marks an unanswered item.
        cutpoint: Overrides the instrument's screening cut-point (PCL-5:
            31-33 are documented).

    Returns:
        The :class:`Score`.

    Raises:
        ValidationError: Out-of-range answers, a wrong count, strings or
            booleans where numbers belong, or missing answers on a scale
            without a published prorating rule; each with its path.
        UnknownReferenceError: An unknown instrument id (the message lists
            the known ones).

    Example:
        >>> score("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1]).flags
        frozenset({'suicidal_ideation'})
    """
    inst = resolve(instrument)
    scores, prorated = item_scores(inst, answers)
    counted = _prorate(inst, scores) if prorated else scores
    total, subscales = TOTAL_RULES[inst.scoring](inst, counted)
    flags = frozenset(f.id for f in inst.flags if FLAG_RULES[f.rule][0](f.params, scores))
    band = inst.band_for(total) if total is not None else None
    if cutpoint is not None and (isinstance(cutpoint, bool) or not isinstance(cutpoint, int)):
        raise ValidationError(f"expected an integer cut-point, got {cutpoint!r}", path="$.cutpoint")
    cut = cutpoint if cutpoint is not None else (inst.positive.value if inst.positive else None)
    return Score(
        instrument=inst.id,
        total=total,
        band=band.id if band else None,
        subscales=subscales,
        flags=flags,
        positive=None if cut is None or total is None else total >= cut,
        prorated=prorated,
        items=scores,
    )
